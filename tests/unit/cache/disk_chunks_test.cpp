// Bodies above one chunk on disk: chunk records, range reads, overwrite/erase/purge of their
// chunks, and a cache left by the previous format version.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <future>

#include "common/cache/disk_accounting.h"
#include "common/cache/disk_tier.h"
#include "tests/unit/cache/legacy_format_v1.h"
#include "tests/unit/cache/temp_dir.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_object;
using testing::TempDir;

// Bytes that say where they are: byte i is the low byte of (i * 7 + i / 251), so any misplaced
// or repeated run shows.
std::string positional(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char((i * 7 + i / 251) & 0xff);
  return s;
}

ObjectRef make_ref(const std::string& key, const std::string& body, size_t block = 64 * 1024) {
  return std::make_shared<const CachedObject>(make_object(key, body, block));
}

class DiskChunksTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.path() + "/db"; }
  std::unique_ptr<DiskTier> open_tier() {
    DiskOptions o;
    o.path = path();
    auto r = DiskTier::open(o);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(r.value()) : nullptr;
  }
  // Opens the database under the (closed) tier with every family and hands fn the handle of one.
  void with_family(const std::string& family,
                   const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& fn) {
    rocksdb::Options opts;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(opts, path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(opts, path(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == family) fn(*db, handles[i]);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  size_t count_records(const std::string& family) {
    size_t n = 0;
    with_family(family, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), h));
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    });
    return n;
  }

  TempDir dir_;
};

TEST_F(DiskChunksTest, LargeBodyRoundTripsInFixedSizeChunks) {
  const std::string body = positional(3 * kChunkSize + 12345);
  auto t = open_tier();
  t->put_async(make_ref("h/vod/big.mp4", body));
  t->wait_idle();
  ObjectRef got = t->get_sync("h/vod/big.mp4");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body.size, body.size());
  EXPECT_EQ(got->body.flatten(), body);
  // In memory too the body arrives as chunk-sized blocks.
  ASSERT_EQ(got->body.chunks.size(), 4u);
  EXPECT_EQ(got->body.chunks[0]->size(), kChunkSize);
  EXPECT_EQ(t->stats().chunk_reads, 4u);
  t.reset();
  EXPECT_EQ(count_records(disk::kChunksFamily), 4u);
}

TEST_F(DiskChunksTest, RangeReadsOnlyTheChunksThatHoldIt) {
  const std::string body = positional(8 * kChunkSize + 99);
  auto t = open_tier();
  t->put_async(make_ref("h/r", body));
  t->wait_idle();
  auto head = t->get_head_sync("h/r");
  ASSERT_TRUE(head);
  ASSERT_TRUE(head->layout.chunked());
  EXPECT_TRUE(head->object.body.chunks.empty());
  EXPECT_EQ(t->stats().chunk_reads, 0u);

  // Across the boundary of chunks 2 and 3: two chunk reads.
  const uint64_t first = 3ull * kChunkSize - 10, last = 3ull * kChunkSize + 9;
  auto r = t->read_range_sync(*head, first, last);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->flatten(), body.substr(first, 20));
  EXPECT_EQ(t->stats().chunk_reads, 2u);
  // The tail, inside the last (short) chunk: one read.
  r = t->read_range_sync(*head, body.size() - 50, body.size() - 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flatten(), body.substr(body.size() - 50));
  EXPECT_EQ(t->stats().chunk_reads, 3u);
  EXPECT_FALSE(t->read_range_sync(*head, 0, body.size()));  // past the end
}

TEST_F(DiskChunksTest, RangeOfAnInlineBody) {
  auto t = open_tier();
  t->put_async(make_ref("h/small", "0123456789"));
  t->wait_idle();
  auto head = t->get_head_sync("h/small");
  ASSERT_TRUE(head);
  EXPECT_FALSE(head->layout.chunked());
  auto r = t->read_range_sync(*head, 3, 5);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flatten(), "345");
  EXPECT_EQ(t->stats().chunk_reads, 0u);
}

TEST_F(DiskChunksTest, AHeadOfARewrittenKeyNeverReadsTheNewChunks) {
  auto t = open_tier();
  t->put_async(make_ref("h/k", std::string(2 * kChunkSize + 1, 'a')));
  t->wait_idle();
  auto old_head = t->get_head_sync("h/k");
  ASSERT_TRUE(old_head);
  t->put_async(make_ref("h/k", std::string(2 * kChunkSize + 1, 'b')));
  t->wait_idle();
  EXPECT_FALSE(t->read_range_sync(*old_head, 0, 10));  // an error, not 'b' bytes under 'a' headers
  ObjectRef now = t->get_sync("h/k");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->body.flatten(), std::string(2 * kChunkSize + 1, 'b'));
}

TEST_F(DiskChunksTest, OverwriteEraseAndPurgeRemoveChunkRecords) {
  {
    auto t = open_tier();
    t->put_async(make_ref("h/p/a", positional(5 * kChunkSize)));
    t->put_async(make_ref("h/p/b", positional(2 * kChunkSize + 1)));
    t->put_async(make_ref("h/q/c", positional(2 * kChunkSize + 1)));
    t->wait_idle();
  }
  EXPECT_EQ(count_records(disk::kChunksFamily), 5u + 3u + 3u);
  {
    auto t = open_tier();
    t->put_async(make_ref("h/p/a", positional(kChunkSize + 1)));  // 5 chunks become 2
    t->wait_idle();
    ObjectRef a = t->get_sync("h/p/a");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->body.flatten(), positional(kChunkSize + 1));
  }
  EXPECT_EQ(count_records(disk::kChunksFamily), 2u + 3u + 3u);
  {
    auto t = open_tier();
    EXPECT_EQ(t->erase_prefix("h/p/"), 2u);
    EXPECT_FALSE(t->get_sync("h/p/b"));
  }
  EXPECT_EQ(count_records(disk::kChunksFamily), 3u);
  {
    auto t = open_tier();
    EXPECT_TRUE(t->erase("h/q/c"));
    EXPECT_EQ(t->bytes(), 0u);
  }
  EXPECT_EQ(count_records(disk::kChunksFamily), 0u);
}

TEST_F(DiskChunksTest, MissingChunkIsAMissAndDropsTheObject) {
  {
    auto t = open_tier();
    t->put_async(make_ref("h/m", positional(3 * kChunkSize)));
    t->wait_idle();
  }
  with_family(disk::kChunksFamily, [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    ASSERT_TRUE(db.Delete({}, h, chunk_key("h/m", 1)).ok());
  });
  auto t = open_tier();
  EXPECT_FALSE(t->get_sync("h/m"));
  EXPECT_EQ(t->stats().corrupt, 1u);
  EXPECT_FALSE(t->get_head_sync("h/m"));  // dropped with its records
  EXPECT_EQ(t->bytes(), 0u);
}

TEST_F(DiskChunksTest, AsyncGetLeavesALargeBodyOnDiskForRangeReads) {
  const std::string big = positional(DiskTier::kResidentBodyMax + 3 * kChunkSize + 7);
  const std::string mid = positional(3 * kChunkSize);
  auto t = open_tier();
  t->put_async(make_ref("h/big", big));
  t->put_async(make_ref("h/mid", mid));
  t->wait_idle();
  auto get = [&](const std::string& key) {
    std::promise<ObjectRef> p;
    t->get_async(key, [&](ObjectRef o) { p.set_value(std::move(o)); });
    return p.get_future().get();
  };
  ObjectRef m = get("h/mid");  // small enough: loaded whole
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->body_resident());
  EXPECT_EQ(m->body.flatten(), mid);
  const uint64_t reads = t->stats().chunk_reads;

  ObjectRef b = get("h/big");
  ASSERT_TRUE(b);
  ASSERT_FALSE(b->body_resident());
  EXPECT_TRUE(b->body.chunks.empty());
  EXPECT_EQ(b->meta.body_size, big.size());
  EXPECT_EQ(t->stats().chunk_reads, reads);  // the head only
  std::promise<Result<Body>> p;
  const uint64_t first = 5ull * kChunkSize - 3;
  t->read_range_async(b->on_disk, first, first + 5,
                      [&](Result<Body> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->flatten(), big.substr(first, 6));
  EXPECT_EQ(t->stats().chunk_reads, reads + 2);
  EXPECT_FALSE(get("h/none"));
}

// A cache directory as the previous release left it: default, index and order families, version 1
// values, 16-byte index records.
TEST_F(DiskChunksTest, CacheWrittenByThePreviousFormatIsReadThenRewritten) {
  const std::string old_body = positional(300000);  // above one chunk: v1 kept it in one record
  uint64_t old_size = 0;
  {
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}},
        {disk::kIndexFamily, {}},
        {disk::kOrderFamily, {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(opts, path(), families, &h, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    uint64_t seq = 0;
    for (const char* key : {"h/old/a.ts", "h/old/b.ts"}) {
      std::string value = testing::serialize_v1(make_object(key, old_body, 4096));
      old_size = value.size() + strlen(key);
      ASSERT_TRUE(db->Put({}, h[0], key, value).ok());
      ASSERT_TRUE(db->Put({}, h[1], key, testing::index_v1(seq, old_size)).ok());
      ASSERT_TRUE(db->Put({}, h[2], disk::encode_seq(seq), disk::encode_order(old_size, key)).ok());
      ++seq;
    }
    for (auto* x : h) db->DestroyColumnFamilyHandle(x);
  }
  auto t = open_tier();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->bytes(), 2 * old_size);
  ObjectRef a = t->get_sync("h/old/a.ts");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->body.flatten(), old_body);
  EXPECT_EQ(a->meta.etag, "\"v1\"");
  EXPECT_EQ(t->stats().legacy_reads, 1u);
  EXPECT_EQ(t->stats().corrupt, 0u);
  // A range of an old record is served from its one block.
  auto head = t->get_head_sync("h/old/b.ts");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->format_version, 1);
  auto r = t->read_range_sync(*head, 299990, 299999);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flatten(), old_body.substr(299990));
  // Rewritten in the new format over the old records; the accounting follows.
  t->put_async(make_ref("h/old/a.ts", old_body));
  t->wait_idle();
  EXPECT_EQ(t->get_head_sync("h/old/a.ts")->format_version, kFormatVersion);
  EXPECT_EQ(t->get_sync("h/old/a.ts")->body.flatten(), old_body);
  EXPECT_EQ(t->erase_prefix("h/old/"), 2u);
  EXPECT_EQ(t->bytes(), 0u);
}

}  // namespace
}  // namespace cdn::cache
