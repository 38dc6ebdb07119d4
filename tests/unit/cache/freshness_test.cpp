#include "common/cache/freshness.h"

#include <gtest/gtest.h>

namespace cdn::cache {
namespace {

constexpr int64_t kNow = 1'700'000'000;  // Tue, 14 Nov 2023 22:13:20 GMT

using Headers = std::vector<StoredHeader>;

StoreDecision decide(int status, Headers h, bool auth = false, const FreshnessPolicy& p = {},
                     std::string_view path = "/vod/a.ts", std::string_view method = "GET") {
  return decide_store(method, path, status, h, auth, p, kNow);
}

TEST(CacheControlParse, DirectivesAreCaseInsensitiveAndQuotedValuesTolerated) {
  CacheControl cc = parse_cache_control(
      R"(Public, MAX-AGE="60", s-maxage=120 , no-cache="set-cookie, x-foo", stale-while-revalidate=5,)"
      R"( stale-if-error=30, immutable, Must-Revalidate, proxy-revalidate, unknown=1)");
  EXPECT_TRUE(cc.is_public);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 120);
  // a qualified no-cache only keeps its fields out of reuse (RFC 9111 §5.2.2.4)
  EXPECT_FALSE(cc.no_cache);
  EXPECT_EQ(cc.no_cache_fields, (std::vector<std::string>{"set-cookie", "x-foo"}));
  EXPECT_EQ(cc.stale_while_revalidate, 5);
  EXPECT_EQ(cc.stale_if_error, 30);
  EXPECT_TRUE(cc.immutable);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(cc.is_private);
  EXPECT_FALSE(cc.invalid_freshness);
}

TEST(CacheControlParse, BadNumbersAreIgnoredAndFlagged) {
  CacheControl cc = parse_cache_control("max-age=abc, stale-while-revalidate=-1, stale-if-error=1x");
  EXPECT_FALSE(cc.max_age);
  EXPECT_TRUE(cc.invalid_freshness);
  EXPECT_FALSE(cc.stale_while_revalidate);
  EXPECT_FALSE(cc.stale_if_error);
}

TEST(CacheControlParse, FirstOccurrenceWinsAndHugeValuesSaturate) {
  CacheControl cc = parse_cache_control("max-age=10, max-age=20, s-maxage=99999999999999999999999");
  EXPECT_EQ(cc.max_age, 10);
  EXPECT_EQ(cc.s_maxage, 2147483648LL);
}

TEST(CacheControlParse, SpaceAroundTheEqualsSignIsMalformed) {
  // RFC 9111 §5.2: no whitespace around '='; such a max-age is invalid, the response stale
  for (const char* v : {"max-age = 3600", "max-age =3600", "max-age= 3600", "s-maxage =60"}) {
    CacheControl cc = parse_cache_control(v);
    EXPECT_TRUE(cc.invalid_freshness) << v;
    EXPECT_FALSE(cc.max_age) << v;
  }
  EXPECT_FALSE(parse_cache_control(" max-age=60 , public").invalid_freshness);
}

TEST(DecideStore, LifetimePrecedence) {
  // s-maxage > max-age > Expires - Date
  Headers h = {{"Date", format_http_date(kNow)}, {"Expires", format_http_date(kNow + 300)}};
  EXPECT_EQ(decide(200, h).fresh_lifetime_s, 300);
  h.push_back({"Cache-Control", "max-age=60"});
  EXPECT_EQ(decide(200, h).fresh_lifetime_s, 60);
  h.push_back({"cache-control", "s-maxage=30"});  // second field line, combined with the first
  auto d = decide(200, h);
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.fresh_lifetime_s, 30);
  EXPECT_EQ(d.reason, "s-maxage");
}

TEST(DecideStore, ExpiresRelativeToDateNotNow) {
  Headers h = {{"Date", format_http_date(kNow - 1000)}, {"Expires", format_http_date(kNow - 900)}};
  EXPECT_EQ(decide(200, h).fresh_lifetime_s, 100);
}

TEST(DecideStore, InvalidExpiresMeansStale) {
  auto d = decide(200, {{"Expires", "0"}, {"ETag", "\"x\""}});
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.fresh_lifetime_s, 0);
}

TEST(DecideStore, InvalidMaxAgeIsStaleNotDefaulted) {
  FreshnessPolicy p;
  p.default_ttls = {{"*.ts", 3600}};
  auto d = decide(200, {{"Cache-Control", "max-age=-1"}, {"ETag", "\"x\""}}, false, p);
  EXPECT_EQ(d.fresh_lifetime_s, 0);
}

TEST(DecideStore, NoStorePrivateVaryStarAreNotStored) {
  EXPECT_FALSE(decide(200, {{"Cache-Control", "max-age=60, no-store"}}).store);
  EXPECT_FALSE(decide(200, {{"Cache-Control", "private, max-age=60"}}).store);
  EXPECT_FALSE(decide(200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding, *"}}).store);
  EXPECT_TRUE(decide(200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding"}}).store);
}

TEST(DecideStore, BodyLargerThanMaxObjectSizeIsNotStored) {
  FreshnessPolicy p;
  p.max_object_size = 1000;
  Headers h = {{"Cache-Control", "max-age=60"}, {"Content-Length", "1000"}};
  EXPECT_TRUE(decide(200, h, false, p).store);
  h[1].value = "1001";
  StoreDecision d = decide(200, h, false, p);
  EXPECT_FALSE(d.store);
  EXPECT_EQ(d.reason, "larger than max_object_size");
  p.max_object_size = 0;  // no limit
  EXPECT_TRUE(
      decide(200, {{"Cache-Control", "max-age=60"}, {"Content-Length", "5368709120"}}, false, p)
          .store);
}

TEST(DecideStore, OnlyGetIsStored) {
  Headers h = {{"Cache-Control", "max-age=60"}};
  EXPECT_TRUE(decide(200, h, false, {}, "/a", "GET").store);
  EXPECT_FALSE(decide(200, h, false, {}, "/a", "HEAD").store);
  EXPECT_FALSE(decide(200, h, false, {}, "/a", "POST").store);
}

TEST(DecideStore, AuthorizationNeedsExplicitPermission) {
  EXPECT_FALSE(decide(200, {{"Cache-Control", "max-age=60"}}, true).store);
  EXPECT_TRUE(decide(200, {{"Cache-Control", "public, max-age=60"}}, true).store);
  EXPECT_TRUE(decide(200, {{"Cache-Control", "s-maxage=60"}}, true).store);
  auto d = decide(200, {{"Cache-Control", "max-age=60, must-revalidate"}}, true);
  EXPECT_TRUE(d.store);
  EXPECT_TRUE(d.must_revalidate);
}

TEST(DecideStore, NoCacheIsStoredForRevalidationOnly) {
  auto d = decide(200, {{"Cache-Control", "no-cache, max-age=600"}, {"ETag", "\"v\""}});
  EXPECT_TRUE(d.store);
  EXPECT_TRUE(d.must_revalidate);
  EXPECT_EQ(d.fresh_lifetime_s, 0);
}

TEST(DecideStore, NegativeTtlFor404And410BeforePathRules) {
  FreshnessPolicy p;
  p.negative_ttl_s = 7;
  p.default_ttls = {{"*.ts", 86400}};
  EXPECT_EQ(decide(404, {}, false, p).fresh_lifetime_s, 7);
  EXPECT_EQ(decide(410, {}, false, p).fresh_lifetime_s, 7);
  EXPECT_EQ(decide(404, {{"Cache-Control", "max-age=2"}}, false, p).fresh_lifetime_s, 2);
}

TEST(DecideStore, DefaultTtlRulesFirstGlobMatchWins) {
  FreshnessPolicy p;
  p.default_ttls = {{"/live/*.m3u8", 2}, {"/live/*", 60}, {"*.ts", 3600}};
  EXPECT_EQ(decide(200, {}, false, p, "/live/ch1/720p/index.m3u8").fresh_lifetime_s, 2);
  EXPECT_EQ(decide(200, {}, false, p, "/live/ch1/720p/seg1.ts").fresh_lifetime_s, 60);
  EXPECT_EQ(decide(200, {}, false, p, "/vod/movie/seg1.ts").fresh_lifetime_s, 3600);
  EXPECT_FALSE(decide(200, {}, false, p, "/vod/movie/poster.jpg").store);  // nothing applies
}

TEST(DecideStore, HeuristicIsTenPercentOfAgeSinceModifiedCappedAtADay) {
  Headers h = {{"Date", format_http_date(kNow)}, {"Last-Modified", format_http_date(kNow - 1000)}};
  auto d = decide(200, h);
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.fresh_lifetime_s, 100);
  EXPECT_EQ(d.reason, "heuristic");
  h[1].value = format_http_date(kNow - 100 * 86400);
  EXPECT_EQ(decide(200, h).fresh_lifetime_s, 86400);
}

TEST(DecideStore, StatusNeedsHeuristicCacheabilityOrExplicitFreshness) {
  FreshnessPolicy p;
  p.default_ttls = {{"*", 60}};
  EXPECT_FALSE(decide(500, {}, false, p).store);
  EXPECT_FALSE(decide(302, {}, false, p).store);
  EXPECT_TRUE(decide(301, {}, false, p).store);
  EXPECT_TRUE(decide(500, {{"Cache-Control", "max-age=5"}}, false, p).store);
  EXPECT_FALSE(decide(206, {{"Cache-Control", "max-age=5"}}, false, p).store);
}

TEST(DecideStore, StaleWindowsFromDirectivesOrPolicy) {
  FreshnessPolicy p;
  p.default_swr_s = 3;
  p.default_sie_s = 40;
  auto d = decide(200, {{"Cache-Control", "max-age=10, stale-while-revalidate=20"}}, false, p);
  EXPECT_EQ(d.swr_s, 20);
  EXPECT_EQ(d.sie_s, 40);
  d = decide(200, {{"Cache-Control", "max-age=10, must-revalidate, stale-if-error=60"}}, false, p);
  EXPECT_TRUE(d.must_revalidate);
  EXPECT_EQ(d.swr_s, 0);
  EXPECT_EQ(d.sie_s, 0);
}

ObjectMeta meta_at(int64_t response_s) {
  ObjectMeta m;
  m.request_time_ms = response_s * 1000 - 500;
  m.response_time_ms = response_s * 1000;
  m.date_s = response_s;
  return m;
}

TEST(CurrentAge, ResidentTimePlusCorrectedInitialAge) {
  ObjectMeta m = meta_at(kNow);
  EXPECT_EQ(current_age_s(m, kNow), 0);  // 0.5 s response delay rounds down
  EXPECT_EQ(current_age_s(m, kNow + 10), 10);
  m.age_s = 30;  // Age header: age_value + response_delay
  EXPECT_EQ(current_age_s(m, kNow + 10), 40);
  m.age_s = 0;
  m.date_s = kNow - 20;  // apparent age from a Date in the past
  EXPECT_EQ(current_age_s(m, kNow + 10), 30);
  m.age_s = 5;  // the larger of apparent and corrected age wins
  EXPECT_EQ(current_age_s(m, kNow + 10), 30);
  m.date_s = kNow + 100;  // origin clock ahead: apparent age is never negative
  m.age_s = 0;
  EXPECT_EQ(current_age_s(m, kNow), 0);
}

TEST(Classify, FreshThenSwrThenSieThenExpired) {
  ObjectMeta m = meta_at(kNow);
  m.fresh_lifetime_s = 10;
  m.stale_while_revalidate_s = 5;
  m.stale_if_error_s = 20;
  EXPECT_EQ(classify(m, kNow), Freshness::Fresh);
  EXPECT_EQ(classify(m, kNow + 9), Freshness::Fresh);
  EXPECT_EQ(classify(m, kNow + 10), Freshness::StaleRevalidate);
  EXPECT_EQ(classify(m, kNow + 14), Freshness::StaleRevalidate);
  EXPECT_EQ(classify(m, kNow + 15), Freshness::StaleIfError);
  EXPECT_EQ(classify(m, kNow + 29), Freshness::StaleIfError);
  EXPECT_EQ(classify(m, kNow + 30), Freshness::Expired);
}

TEST(Classify, AgeHeaderShortensFreshness) {
  ObjectMeta m = meta_at(kNow);
  m.fresh_lifetime_s = 60;
  m.age_s = 55;
  EXPECT_EQ(classify(m, kNow + 4), Freshness::Fresh);
  EXPECT_EQ(classify(m, kNow + 5), Freshness::Expired);
}

TEST(Classify, MustRevalidateIsNeverServedStale) {
  ObjectMeta m = meta_at(kNow);
  m.fresh_lifetime_s = 10;
  m.stale_while_revalidate_s = 100;
  m.stale_if_error_s = 100;
  m.must_revalidate = true;
  EXPECT_EQ(classify(m, kNow + 9), Freshness::Fresh);
  EXPECT_EQ(classify(m, kNow + 10), Freshness::Expired);
}

TEST(GlobMatch, Star) {
  EXPECT_TRUE(glob_match("*.m3u8", "/live/a/index.m3u8"));
  EXPECT_FALSE(glob_match("*.m3u8", "/live/a/index.m3u8x"));
  EXPECT_TRUE(glob_match("/live/*", "/live/"));
  EXPECT_FALSE(glob_match("/live/*", "/vod/live/x"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("/a/*/b/*.ts", "/a/x/y/b/z.ts"));
  EXPECT_TRUE(glob_match("/exact", "/exact"));
  EXPECT_FALSE(glob_match("/exact", "/exact/"));
}

}  // namespace
}  // namespace cdn::cache
