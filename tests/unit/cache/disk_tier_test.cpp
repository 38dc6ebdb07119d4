#include "common/cache/disk_tier.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "tests/unit/cache/temp_dir.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_object;
using testing::make_ref;
using testing::TempDir;

class DiskTierTest : public ::testing::Test {
 protected:
  std::unique_ptr<DiskTier> open_tier(std::function<int64_t()> now_s = nullptr) {
    DiskOptions o;
    o.path = dir_.path() + "/db";
    o.blob_min_size = 256;
    o.now_s = std::move(now_s);
    auto r = DiskTier::open(o);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(r.value()) : nullptr;
  }
  void put_and_wait(DiskTier& t, ObjectRef o) {
    t.put_async(std::move(o));
    t.wait_idle();
  }
  // Writes straight through RocksDB, bypassing the tier's format, with the tier closed.
  void raw_put(const std::string& key, const std::string& value) {
    rocksdb::Options opts;
    opts.enable_blob_files = true;
    opts.min_blob_size = 256;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(opts, dir_.path() + "/db", &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions(opts));
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(opts, dir_.path() + "/db", families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  TempDir dir_;
};

TEST_F(DiskTierTest, PutThenGetSmallAndBlobSizedValues) {
  auto t = open_tier();
  ASSERT_TRUE(t);
  put_and_wait(*t, make_ref("h/small", "tiny"));
  put_and_wait(*t, make_ref("h/large", std::string(100000, 'L')));  // goes to a blob file
  ObjectRef small = t->get_sync("h/small");
  ObjectRef large = t->get_sync("h/large");
  ASSERT_TRUE(small && large);
  EXPECT_EQ(small->body.flatten(), "tiny");
  EXPECT_EQ(large->body.size, 100000u);
  EXPECT_EQ(large->meta.etag, "\"v1\"");
  EXPECT_FALSE(t->get_sync("h/none"));
  EXPECT_EQ(t->stats().writes, 2u);
  EXPECT_EQ(t->stats().hits, 2u);
  EXPECT_EQ(t->stats().misses, 1u);
}

TEST_F(DiskTierTest, ContentsSurviveReopen) {
  {
    auto t = open_tier();
    t->put_async(make_ref("h/a", std::string(5000, 'a')));
    t->put_async(make_ref("h/b", "b"));
  }  // destructor drains the queued writes before closing
  auto t = open_tier();
  ASSERT_TRUE(t);
  ObjectRef a = t->get_sync("h/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->body.flatten(), std::string(5000, 'a'));
  EXPECT_TRUE(t->get_sync("h/b"));
}

TEST_F(DiskTierTest, EraseAndPrefixPurge) {
  auto t = open_tier();
  for (int i = 0; i < 5; ++i) t->put_async(make_ref("h/live/ch1/" + std::to_string(i), std::string(1000, 'x')));
  for (int i = 0; i < 3; ++i) t->put_async(make_ref("h/live/ch2/" + std::to_string(i), "y"));
  t->wait_idle();
  EXPECT_TRUE(t->erase("h/live/ch2/0"));
  EXPECT_FALSE(t->erase("h/live/ch2/0"));
  EXPECT_EQ(t->erase_prefix("h/live/ch1/"), 5u);
  EXPECT_FALSE(t->get_sync("h/live/ch1/3"));
  EXPECT_TRUE(t->get_sync("h/live/ch2/1"));
  EXPECT_EQ(t->erase_prefix("h/nothing"), 0u);
}

TEST_F(DiskTierTest, GarbageValueIsACountedMissAndDeleted) {
  { auto t = open_tier(); }
  raw_put("h/bad", "definitely not a cache object");
  std::string flipped = serialize(make_object("h/flip", std::string(1000, 'f')));
  flipped[flipped.size() / 2] ^= 0x10;
  raw_put("h/flip", flipped);
  raw_put("h/other", serialize(make_object("h/somewhere-else", "x")));  // valid, but not this key's

  auto t = open_tier();
  EXPECT_FALSE(t->get_sync("h/bad"));
  EXPECT_FALSE(t->get_sync("h/flip"));
  EXPECT_FALSE(t->get_sync("h/other"));
  EXPECT_EQ(t->stats().corrupt, 3u);
  EXPECT_EQ(t->stats().misses, 3u);
  EXPECT_FALSE(t->get_sync("h/bad"));  // deleted: now a plain miss
  EXPECT_EQ(t->stats().corrupt, 3u);
}

TEST_F(DiskTierTest, DamagedBlobFileIsCaughtByRocksdbChecksums) {
  {
    auto t = open_tier([] { return int64_t(1'700'000'000); });  // while the test object is fresh
    put_and_wait(*t, make_ref("h/blob", std::string(50000, 'B')));
    ASSERT_TRUE(t->compact_all());  // flush, so the value sits in a blob file
  }
  size_t damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/db")) {
    if (e.path().extension() != ".blob") continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(e.file_size() / 2));
    f.put('\x55');
    ++damaged;
  }
  ASSERT_GT(damaged, 0u);
  auto t = open_tier();
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->get_sync("h/blob"));
  EXPECT_EQ(t->stats().corrupt, 1u);
}

TEST_F(DiskTierTest, CompactionDropsExpiredEntries) {
  std::atomic<int64_t> now{1'700'000'000};
  auto t = open_tier([&] { return now.load(); });
  CachedObject fresh = make_object("h/fresh", std::string(1000, 'f'));
  fresh.meta.response_time_ms = now * 1000;
  fresh.meta.request_time_ms = now * 1000;
  fresh.meta.date_s = now;
  fresh.meta.fresh_lifetime_s = 3600;
  CachedObject expired = fresh;
  expired.key_text = "h/expired";
  expired.meta.fresh_lifetime_s = 10;
  expired.meta.stale_while_revalidate_s = 0;
  expired.meta.stale_if_error_s = 20;
  CachedObject small_expired = expired;
  small_expired.key_text = "h/small-expired";
  small_expired.body = Body{};
  small_expired.meta.body_size = 0;  // stays inline in the LSM tree, not in a blob
  for (auto* o : {&fresh, &expired, &small_expired}) t->put_async(std::make_shared<const CachedObject>(*o));
  t->wait_idle();

  ASSERT_TRUE(t->compact_all());
  EXPECT_TRUE(t->get_sync("h/expired"));  // still inside its stale-if-error window

  now += 31;
  ASSERT_TRUE(t->compact_all());
  EXPECT_FALSE(t->get_sync("h/expired"));
  EXPECT_FALSE(t->get_sync("h/small-expired"));
  EXPECT_TRUE(t->get_sync("h/fresh"));
  EXPECT_EQ(t->stats().corrupt, 0u);
}

TEST_F(DiskTierTest, GetAsyncDeliversOnAPoolThread) {
  auto t = open_tier();
  put_and_wait(*t, make_ref("h/a", "body"));
  std::promise<std::pair<ObjectRef, std::thread::id>> hit, miss;
  t->get_async("h/a", [&](ObjectRef o) { hit.set_value({o, std::this_thread::get_id()}); });
  t->get_async("h/none", [&](ObjectRef o) { miss.set_value({o, std::this_thread::get_id()}); });
  auto [obj, hit_thread] = hit.get_future().get();
  auto [none, miss_thread] = miss.get_future().get();
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->body.flatten(), "body");
  EXPECT_FALSE(none);
  EXPECT_NE(hit_thread, std::this_thread::get_id());
  EXPECT_NE(miss_thread, std::this_thread::get_id());
}

TEST_F(DiskTierTest, OpenFailureIsAnError) {
  DiskOptions o;
  o.path = "/proc/definitely/not/writable";
  auto r = DiskTier::open(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("open"), std::string::npos);
}

}  // namespace
}  // namespace cdn::cache
