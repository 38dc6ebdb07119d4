#include "common/proxy/request_directives.h"

#include <gtest/gtest.h>

namespace cdn::proxy {
namespace {

http::Request with(std::initializer_list<http::Header> h) {
  http::Request r;
  r.headers = http::Headers(h);
  return r;
}

TEST(RequestDirectives, CacheControlAndPragma) {
  auto d = request_directives(
      with({{"Cache-Control", "only-if-cached, max-age=5"}, {"cache-control", "min-fresh=7"}}));
  EXPECT_TRUE(d.only_if_cached);
  EXPECT_EQ(d.max_age, 5);
  EXPECT_EQ(d.min_fresh, 7);
  EXPECT_FALSE(d.no_cache);
  EXPECT_TRUE(request_directives(with({{"Pragma", "no-cache"}})).no_cache);
  // RFC 9111 §5.4: with Cache-Control present, Pragma is ignored
  EXPECT_FALSE(
      request_directives(with({{"Pragma", "no-cache"}, {"Cache-Control", "max-age=60"}})).no_cache);
  EXPECT_TRUE(request_directives(with({{"Cache-Control", "no-store"}})).no_store);
}

TEST(RequestDirectives, WhenAFreshResponseMustBeValidated) {
  cache::ObjectMeta m;
  const int64_t now = 1'700'000'000;
  m.request_time_ms = m.response_time_ms = (now - 30) * 1000;
  m.date_s = now - 30;
  m.fresh_lifetime_s = 100;  // 30 s old, 70 s of freshness left
  EXPECT_FALSE(wants_validation({}, m, now));
  RequestDirectives d;
  d.no_cache = true;
  EXPECT_TRUE(wants_validation(d, m, now));
  d = {};
  d.max_age = 29;
  EXPECT_TRUE(wants_validation(d, m, now));
  d.max_age = 30;
  EXPECT_FALSE(wants_validation(d, m, now));
  d = {};
  d.min_fresh = 71;
  EXPECT_TRUE(wants_validation(d, m, now));
  d.min_fresh = 70;
  EXPECT_FALSE(wants_validation(d, m, now));
}

}  // namespace
}  // namespace cdn::proxy
