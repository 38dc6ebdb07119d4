// RFC 9213 targeted cache-control fields: parsing (cache_control.h) and precedence (freshness.h).
#include <gtest/gtest.h>

#include "common/cache/cache_control.h"
#include "common/cache/freshness.h"

namespace cdn::cache {
namespace {

TEST(TargetedParse, ValidDictionaries) {
  auto cc =
      parse_targeted_cache_control("max-age=60, stale-while-revalidate=5;x=1, no-store, public=?1");
  ASSERT_TRUE(cc);
  EXPECT_EQ(cc->max_age, 60);
  EXPECT_EQ(cc->stale_while_revalidate, 5);
  EXPECT_TRUE(cc->no_store);
  EXPECT_TRUE(cc->is_public);
}

TEST(TargetedParse, SyntaxErrorsRejectTheWholeField) {
  for (const char* bad : {"", "   ", "max-age = 60", "max-age =60", "Max-Age=60", "max-age=60,",
                          "max-age=\"60", "max-age=60 no-store", "max-age=(1 2)", ",max-age=1"})
    EXPECT_FALSE(parse_targeted_cache_control(bad)) << bad;
}

TEST(TargetedParse, AWrongTypeIgnoresOnlyThatDirective) {
  auto cc =
      parse_targeted_cache_control("max-age=\"60\", s-maxage=-1, stale-if-error=1.5, no-cache");
  ASSERT_TRUE(cc);
  EXPECT_FALSE(cc->max_age);
  EXPECT_FALSE(cc->s_maxage);
  EXPECT_FALSE(cc->stale_if_error);
  EXPECT_TRUE(cc->no_cache);
}

TEST(TargetedPrecedence, FirstValidFieldOnTheListWinsOverCacheControlAndExpires) {
  FreshnessPolicy p;
  p.targeted_fields = {"Edge-Cache-Control", "CDN-Cache-Control"};
  const int64_t now = 1'700'000'000;
  std::vector<StoredHeader> h = {
      {"Cache-Control", "no-store"}, {"Expires", "0"}, {"CDN-Cache-Control", "max-age=30"}};
  auto d = decide_store("GET", "/a", 200, h, false, p, now);
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.fresh_lifetime_s, 30);
  h.push_back({"Edge-Cache-Control", "max-age=5"});
  EXPECT_EQ(decide_store("GET", "/a", 200, h, false, p, now).fresh_lifetime_s, 5);
  h.back().value = "max-age = 5";  // invalid: the next field on the list decides
  EXPECT_EQ(decide_store("GET", "/a", 200, h, false, p, now).fresh_lifetime_s, 30);
  // without a targeted list (or without the fields) Cache-Control decides
  EXPECT_FALSE(decide_store("GET", "/a", 200, h, false, FreshnessPolicy{}, now).store);
}

}  // namespace
}  // namespace cdn::cache
