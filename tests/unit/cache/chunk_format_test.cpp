// Format version 2 records (head + chunks) and reading version 1 records.
#include <gtest/gtest.h>

#include "common/cache/object.h"
#include "tests/unit/cache/legacy_format_v1.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_object;
using testing::serialize_v1;

TEST(ChunkLayout, SmallBodiesStayInTheHead) {
  EXPECT_FALSE(layout_for(0, 1).chunked());
  EXPECT_FALSE(layout_for(kChunkSize, 1).chunked());
  ChunkLayout l = layout_for(uint64_t(kChunkSize) * 3 + 1, 9);
  EXPECT_TRUE(l.chunked());
  EXPECT_EQ(l.chunk_count, 4u);
  EXPECT_EQ(l.chunk_size, kChunkSize);
  EXPECT_EQ(l.generation, 9u);
  EXPECT_EQ(l.chunk_of(kChunkSize - 1), 0u);
  EXPECT_EQ(l.chunk_of(kChunkSize), 1u);
  // 64-bit: a body past 4 GiB has chunk indices past 2^14 and offsets past 2^32.
  ChunkLayout big = layout_for((5ull << 30) + 3, 1);
  EXPECT_EQ(big.chunk_count, uint32_t(((5ull << 30) + 3 + kChunkSize - 1) / kChunkSize));
  EXPECT_EQ(big.chunk_of(1ull << 32), uint32_t((1ull << 32) / kChunkSize));
}

TEST(ChunkedHead, CarriesLayoutAndNoBody) {
  CachedObject o = make_object("example.com/big", std::string(kChunkSize + 10, 'b'));
  ChunkLayout l = layout_for(o.body.size, 0xfeedface12345678ull);
  auto h = decode_head(encode_head(o, l));
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->format_version, kFormatVersion);
  EXPECT_EQ(h->layout.generation, l.generation);
  EXPECT_EQ(h->layout.chunk_count, 2u);
  EXPECT_EQ(h->object.meta.body_size, kChunkSize + 10);
  EXPECT_TRUE(h->object.body.chunks.empty());
  // A chunked head is not a whole object.
  EXPECT_FALSE(deserialize(encode_head(o, l)));
}

TEST(ChunkedHead, LayoutThatDisagreesWithTheSizeIsRejected) {
  CachedObject o = make_object("k", std::string(kChunkSize + 10, 'b'));
  ChunkLayout l = layout_for(o.body.size, 1);
  l.chunk_count = 3;  // the body needs 2
  EXPECT_FALSE(decode_head(encode_head(o, l)));
}

TEST(ChunkRecord, RoundTripsAndIsBoundToItsHead) {
  ChunkLayout l = layout_for(uint64_t(kChunkSize) + 5, 42);
  const uint64_t size = uint64_t(kChunkSize) + 5;
  std::string last(5, 'z');
  std::string rec = encode_chunk(1234, l, 1, last);
  auto d = decode_chunk(rec, l, 1, size);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, last);
  EXPECT_EQ(peek_expires_at_s(rec), 1234);

  ChunkLayout other = l;
  other.generation = 43;
  EXPECT_FALSE(decode_chunk(rec, other, 1, size));  // another version of the key
  EXPECT_FALSE(decode_chunk(rec, l, 0, size));      // another index
  EXPECT_FALSE(decode_chunk(rec, l, 1, size + 1));  // the head expects 6 bytes here
  EXPECT_FALSE(decode_chunk(encode_chunk(1, l, 2, "x"), l, 2, size));  // past the last chunk
  for (size_t len = 0; len < rec.size(); ++len)
    EXPECT_FALSE(decode_chunk(rec.substr(0, len), l, 1, size));
  for (size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] = char(bad[i] ^ 0x01);
    EXPECT_FALSE(decode_chunk(bad, l, 1, size)) << "byte " << i;
  }
}

TEST(ChunkRecord, KeysSortRightAfterTheirObjectAndInIndexOrder) {
  EXPECT_EQ(chunk_key("h/a", 1), std::string("h/a\0\0\0\0\1", 8));
  EXPECT_LT(chunk_key("h/a", 1), chunk_key("h/a", 256));
  EXPECT_LT(chunk_key("h/a", 0xffffffffu), std::string("h/a/"));
  EXPECT_TRUE(chunk_key("h/a", 7).starts_with("h/a"));  // prefix purges reach them
}

TEST(LegacyFormat, VersionOneRecordIsReadWithEveryField) {
  CachedObject o = make_object("example.com/vod/old.ts", "written by the previous release", 7);
  o.meta.must_revalidate = true;
  std::string rec = serialize_v1(o);
  auto h = decode_head(rec);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->format_version, 1);
  EXPECT_FALSE(h->layout.chunked());
  EXPECT_EQ(h->object.key_text, o.key_text);
  EXPECT_EQ(h->object.body.flatten(), "written by the previous release");
  EXPECT_EQ(h->object.meta.etag, o.meta.etag);
  EXPECT_TRUE(h->object.meta.must_revalidate);
  EXPECT_EQ(peek_expires_at_s(rec), expires_at_s(o.meta));
  auto whole = deserialize(rec);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->body.size, o.body.size);
}

TEST(LegacyFormat, DamagedOrUnknownVersionIsAnErrorNeverAWrongBody) {
  std::string rec = serialize_v1(make_object("k", "0123456789"));
  for (size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] = char(bad[i] ^ 0x20);
    EXPECT_FALSE(decode_head(bad)) << "byte " << i;
  }
  // A record from a future version, even with a valid checksum, is refused.
  std::string future = rec.substr(0, rec.size() - 8);
  future[4] = 3;
  testing::v1_u64(future, XXH3_64bits(future.data(), future.size()));
  EXPECT_FALSE(decode_head(future));
  EXPECT_FALSE(peek_expires_at_s(future));
}

}  // namespace
}  // namespace cdn::cache
