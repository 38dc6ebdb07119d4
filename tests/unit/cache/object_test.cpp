#include "common/cache/object.h"

#include <gtest/gtest.h>

#include "common/cache/freshness.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_object;

TEST(ObjectFormat, RoundTripsEveryField) {
  CachedObject o = make_object("example.com/vod/a.ts?x=1", "hello, world", 5);  // 3 chunks in
  o.meta.age_s = 7;
  o.meta.must_revalidate = true;
  o.meta.status = 404;
  auto r = deserialize(serialize(o));
  ASSERT_TRUE(r) << r.error().message;
  const CachedObject& d = r.value();
  EXPECT_EQ(d.key_text, o.key_text);
  EXPECT_EQ(d.meta.status, 404);
  ASSERT_EQ(d.meta.headers.size(), 2u);
  EXPECT_EQ(d.meta.headers[1].name, "Cache-Control");
  EXPECT_EQ(d.meta.headers[1].value, "max-age=60");
  EXPECT_EQ(d.meta.request_time_ms, o.meta.request_time_ms);
  EXPECT_EQ(d.meta.response_time_ms, o.meta.response_time_ms);
  EXPECT_EQ(d.meta.date_s, o.meta.date_s);
  EXPECT_EQ(d.meta.age_s, 7);
  EXPECT_EQ(d.meta.fresh_lifetime_s, 60);
  EXPECT_EQ(d.meta.stale_while_revalidate_s, 5);
  EXPECT_EQ(d.meta.stale_if_error_s, 30);
  EXPECT_TRUE(d.meta.must_revalidate);
  EXPECT_EQ(d.meta.etag, o.meta.etag);
  EXPECT_EQ(d.meta.last_modified, o.meta.last_modified);
  EXPECT_EQ(d.meta.body_size, 12u);
  ASSERT_EQ(d.body.chunks.size(), 1u);  // stored contiguously, handed out as one block
  EXPECT_EQ(*d.body.chunks[0], "hello, world");
  EXPECT_EQ(d.body.size, 12u);
}

TEST(ObjectFormat, EmptyBodyRoundTrips) {
  auto r = deserialize(serialize(make_object("k", "")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size, 0u);
  EXPECT_TRUE(r->body.chunks.empty());
}

TEST(ObjectFormat, RejectsEveryTruncation) {
  std::string s = serialize(make_object("example.com/a", "0123456789abcdef"));
  for (size_t len = 0; len < s.size(); ++len)
    EXPECT_FALSE(deserialize(std::string_view(s).substr(0, len))) << "length " << len;
  EXPECT_FALSE(deserialize(s + "x"));
}

TEST(ObjectFormat, RejectsEveryBitFlip) {
  std::string s = serialize(make_object("example.com/a", "0123456789abcdef"));
  for (size_t i = 0; i < s.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = s;
      bad[i] = char(bad[i] ^ (1 << bit));
      EXPECT_FALSE(deserialize(bad)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(ObjectFormat, HeadCarriesExpiry) {
  CachedObject o = make_object("k", "body");
  std::string s = serialize(o);
  auto peeked = peek_expires_at_s(s);
  ASSERT_TRUE(peeked);
  EXPECT_EQ(*peeked, expires_at_s(o.meta));
  EXPECT_FALSE(peek_expires_at_s("garbage that is long enough to be a head......"));
}

TEST(ObjectExpiry, MatchesClassifyBoundary) {
  for (int64_t age : {0, 3, 50}) {
    for (bool must_revalidate : {false, true}) {
      ObjectMeta m = make_object("k", "b").meta;
      m.age_s = age;
      m.must_revalidate = must_revalidate;
      int64_t last = expires_at_s(m);
      EXPECT_NE(classify(m, last), Freshness::Expired) << age << " " << must_revalidate;
      EXPECT_EQ(classify(m, last + 1), Freshness::Expired) << age << " " << must_revalidate;
    }
  }
}

}  // namespace
}  // namespace cdn::cache
