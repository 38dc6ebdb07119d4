// Size cap of the disk tier: FIFO eviction, byte accounting across overwrite, erase, purge,
// expiry, reopen and concurrent writers. Real RocksDB in scratch directories.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/cache/disk_tier.h"
#include "tests/unit/cache/temp_dir.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_object;
using testing::make_ref;
using testing::TempDir;

constexpr uint64_t kMiB = 1 << 20;
constexpr size_t kBody = 64 * 1024;

// Fixed width, so that every object has the same stored size.
std::string key_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "h/seg/%03d", i);
  return buf;
}
std::string body_of(int i) { return std::string(kBody, char('a' + i % 26)); }
// What the tier accounts for one object: its serialized value plus its key.
uint64_t stored_size(const CachedObject& o) { return serialize(o).size() + o.key_text.size(); }
uint64_t stored_size_of(int i) { return stored_size(make_object(key_of(i), body_of(i))); }

class DiskEvictionTest : public ::testing::Test {
 protected:
  std::unique_ptr<DiskTier> open_tier(uint64_t max_bytes, size_t io_threads = 2,
                                      std::function<int64_t()> now_s = nullptr) {
    DiskOptions o;
    o.path = path();
    o.max_bytes = max_bytes;
    o.io_threads = io_threads;
    o.blob_min_size = 256;
    // The test objects are fresh at this instant: no compaction may expire them by accident.
    o.now_s = now_s ? std::move(now_s) : [] { return int64_t(1'700'000'000); };
    auto r = DiskTier::open(o);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(r.value()) : nullptr;
  }
  std::string path() const { return dir_.path() + "/db"; }
  // Sum of the stored sizes of every readable key among 0..n-1: what bytes() must equal.
  static uint64_t readable_bytes(DiskTier& t, int n) {
    uint64_t sum = 0;
    for (int i = 0; i < n; ++i) {
      if (auto o = t.get_sync(key_of(i))) sum += stored_size(*o);
    }
    return sum;
  }
  uint64_t files_bytes(const char* ext) const {
    uint64_t sum = 0;
    for (const auto& e : std::filesystem::directory_iterator(path())) {
      if (e.path().extension() == ext) sum += e.file_size();
    }
    return sum;
  }

  TempDir dir_;
};

TEST_F(DiskEvictionTest, CapHoldsAndOldestGoFirst) {
  // One writer thread, so that the order of landing is the order of submission: with more, a
  // descheduled writer can land its object later (and it is then, rightly, among the newest).
  auto t = open_tier(kMiB, 1);
  ASSERT_TRUE(t);
  for (int i = 0; i < 100; ++i) t->put_async(make_ref(key_of(i), body_of(i)));
  t->wait_idle();

  const uint64_t one = stored_size_of(0);
  EXPECT_LE(t->bytes(), kMiB + one);
  EXPECT_GE(t->bytes(), kMiB / 2);  // evicts down to ~90%, not to nothing
  EXPECT_EQ(t->stats().writes, 100u);
  EXPECT_GT(t->stats().evictions, 70u);
  EXPECT_EQ(t->stats().evicted_bytes, t->stats().evictions * one);
  for (int i = 90; i < 100; ++i) EXPECT_TRUE(t->get_sync(key_of(i))) << i;
  for (int i = 0; i < 80; ++i) EXPECT_FALSE(t->get_sync(key_of(i))) << i;
  EXPECT_EQ(readable_bytes(*t, 100), t->bytes());
  EXPECT_EQ(100 - t->stats().evictions, t->bytes() / one);
}

TEST_F(DiskEvictionTest, FilesOnDiskFollowTheCapAfterCompaction) {
  auto t = open_tier(kMiB);
  ASSERT_TRUE(t);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) t->put_async(make_ref(key_of(round * 100 + i), body_of(i)));
    t->wait_idle();
    ASSERT_TRUE(t->compact_all());
  }
  // 19 MiB written through a 1 MiB cap: blob GC has given back the evicted bodies.
  EXPECT_LE(files_bytes(".blob") + files_bytes(".sst"), kMiB + kMiB / 2);
  EXPECT_LE(t->bytes(), kMiB + stored_size_of(0));
}

TEST_F(DiskEvictionTest, OverwriteIsNotCountedTwice) {
  auto t = open_tier(kMiB);
  ASSERT_TRUE(t);
  for (int i = 0; i < 50; ++i) t->put_async(make_ref(key_of(7), body_of(i)));
  t->wait_idle();
  EXPECT_EQ(t->bytes(), stored_size_of(7));
  EXPECT_EQ(t->stats().evictions, 0u);
  ASSERT_TRUE(t->get_sync(key_of(7)));

  // A smaller new version replaces the larger one's count.
  t->put_async(make_ref(key_of(7), "small"));
  t->wait_idle();
  EXPECT_EQ(t->bytes(), stored_size(make_object(key_of(7), "small")));
}

TEST_F(DiskEvictionTest, EraseAndPurgeGiveBytesBack) {
  auto t = open_tier(0);
  ASSERT_TRUE(t);
  for (int i = 0; i < 10; ++i) t->put_async(make_ref(key_of(i), body_of(i)));
  t->put_async(make_ref("h/other/1", "x"));
  t->wait_idle();
  const uint64_t one = stored_size_of(0), other = stored_size(make_object("h/other/1", "x"));
  EXPECT_EQ(t->bytes(), 10 * one + other);

  EXPECT_TRUE(t->erase(key_of(3)));
  EXPECT_FALSE(t->erase(key_of(3)));
  EXPECT_EQ(t->bytes(), 9 * one + other);

  t->erase_async(key_of(4));
  t->wait_idle();
  EXPECT_EQ(t->bytes(), 8 * one + other);

  EXPECT_EQ(t->erase_prefix("h/seg/"), 8u);
  EXPECT_EQ(t->bytes(), other);
  EXPECT_FALSE(t->get_sync(key_of(9)));
  EXPECT_TRUE(t->get_sync("h/other/1"));
  EXPECT_EQ(t->erase_prefix("h/seg/"), 0u);

  // Erased keys leave no records behind: a reopen counts the same.
  t.reset();
  t = open_tier(0);
  EXPECT_EQ(t->bytes(), other);
}

TEST_F(DiskEvictionTest, ReopenKeepsAccountingAndOrder) {
  const uint64_t one = stored_size_of(0);
  uint64_t before = 0;
  {
    auto t = open_tier(kMiB, 1);
    ASSERT_TRUE(t);
    for (int i = 0; i < 12; ++i) t->put_async(make_ref(key_of(i), body_of(i)));
    t->wait_idle();
    before = t->bytes();
    EXPECT_EQ(before, 12 * one);
    EXPECT_EQ(t->stats().evictions, 0u);
  }
  auto t = open_tier(kMiB, 1);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->bytes(), before);
  // Insertion order survives too: the next writes evict the previous run's oldest first.
  for (int i = 12; i < 24; ++i) t->put_async(make_ref(key_of(i), body_of(i)));
  t->wait_idle();
  EXPECT_LE(t->bytes(), kMiB + one);
  EXPECT_FALSE(t->get_sync(key_of(0)));
  EXPECT_FALSE(t->get_sync(key_of(5)));
  for (int i = 14; i < 24; ++i) EXPECT_TRUE(t->get_sync(key_of(i))) << i;
  EXPECT_EQ(readable_bytes(*t, 24), t->bytes());
}

TEST_F(DiskEvictionTest, LoweredCapEvictsOnOpen) {
  {
    auto t = open_tier(0);
    for (int i = 0; i < 40; ++i) t->put_async(make_ref(key_of(i), body_of(i)));
  }
  auto t = open_tier(kMiB);
  ASSERT_TRUE(t);
  t->wait_idle();
  EXPECT_LE(t->bytes(), kMiB);
  EXPECT_FALSE(t->get_sync(key_of(0)));
  EXPECT_TRUE(t->get_sync(key_of(39)));
}

TEST_F(DiskEvictionTest, UnlimitedNeverEvicts) {
  auto t = open_tier(0);
  ASSERT_TRUE(t);
  for (int i = 0; i < 100; ++i) t->put_async(make_ref(key_of(i), body_of(i)));
  t->wait_idle();
  EXPECT_EQ(t->stats().evictions, 0u);
  EXPECT_EQ(t->bytes(), 100 * stored_size_of(0));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(t->get_sync(key_of(i))) << i;
}

TEST_F(DiskEvictionTest, ConcurrentWritersKeepTheInvariant) {
  constexpr int kThreads = 4, kPerThread = 60, kKeys = 150;  // overlapping keys: overwrites race
  auto t = open_tier(kMiB, 4);
  ASSERT_TRUE(t);
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        int k = (w * 37 + i * 7) % kKeys;
        t->put_async(make_ref(key_of(k), body_of(k)));
        if (i % 10 == 0) t->erase_async(key_of((k + 1) % kKeys));
      }
    });
  }
  for (auto& th : writers) th.join();
  t->wait_idle();
  const uint64_t one = stored_size_of(0);
  EXPECT_LE(t->bytes(), kMiB + one);
  EXPECT_GT(t->stats().evictions, 0u);
  EXPECT_EQ(readable_bytes(*t, kKeys), t->bytes());
  const uint64_t live = t->bytes();
  t.reset();
  t = open_tier(kMiB, 4);
  EXPECT_EQ(t->bytes(), live);
}

TEST_F(DiskEvictionTest, ExpiredObjectsLeaveTheCount) {
  std::atomic<int64_t> now{1'700'000'000};
  auto t = open_tier(0, 2, [&] { return now.load(); });
  ASSERT_TRUE(t);
  auto at_now = [&](std::string key, int64_t lifetime) {
    CachedObject o = make_object(std::move(key), std::string(5000, 'e'));
    o.meta.response_time_ms = o.meta.request_time_ms = now * 1000;
    o.meta.date_s = now;
    o.meta.fresh_lifetime_s = lifetime;
    o.meta.stale_while_revalidate_s = o.meta.stale_if_error_s = 0;
    return o;
  };
  CachedObject keep = at_now("h/keep", 3600), gone = at_now("h/gone", 10);
  t->put_async(std::make_shared<const CachedObject>(keep));
  t->put_async(std::make_shared<const CachedObject>(gone));
  t->wait_idle();
  EXPECT_EQ(t->bytes(), stored_size(keep) + stored_size(gone));
  now += 60;
  ASSERT_TRUE(t->compact_all());
  EXPECT_FALSE(t->get_sync("h/gone"));
  EXPECT_EQ(t->bytes(), stored_size(keep));
  t.reset();
  t = open_tier(0);
  EXPECT_EQ(t->bytes(), stored_size(keep));
}

TEST_F(DiskEvictionTest, LargerThanTheCapIsNotStored) {
  auto t = open_tier(256 * 1024);
  ASSERT_TRUE(t);
  t->put_async(make_ref("h/small", "s"));
  t->put_async(make_ref("h/huge", std::string(300 * 1024, 'H')));
  t->wait_idle();
  EXPECT_FALSE(t->get_sync("h/huge"));
  EXPECT_TRUE(t->get_sync("h/small"));
  EXPECT_EQ(t->stats().too_large, 1u);
  EXPECT_EQ(t->stats().writes, 1u);
  EXPECT_EQ(t->stats().evictions, 0u);
}

TEST_F(DiskEvictionTest, DatabaseFromBeforeAccountingIsMigrated) {
  {
    rocksdb::Options opts;
    opts.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(opts, path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key_of(i), serialize(make_object(key_of(i), body_of(i)))).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  auto t = open_tier(0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->bytes(), 30 * stored_size_of(0));
  EXPECT_EQ(t->erase_prefix("h/seg/01"), 10u);  // purges find migrated objects
  EXPECT_EQ(t->bytes(), 20 * stored_size_of(0));
  t.reset();
  t = open_tier(kMiB);  // and they are evictable
  t->wait_idle();
  EXPECT_LE(t->bytes(), kMiB);
  EXPECT_EQ(readable_bytes(*t, 30), t->bytes());
}

}  // namespace
}  // namespace cdn::cache
