#include "common/http/conditional.h"

#include <gtest/gtest.h>

#include "common/util/http_date.h"

namespace cdn::http {
namespace {

Request with(std::initializer_list<Header> hs) {
  Request r;
  for (auto& h : hs) r.headers.add(h.name, h.value);
  return r;
}

TEST(Conditional, IfNoneMatchUsesWeakComparisonOverLists) {
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "\"a\""}}), "\"a\"", -1));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "\"x\", W/\"a\""}}), "\"a\"", -1));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "\"a\""}}), "W/\"a\"", -1));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", " * "}}), "\"a\"", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "\"b\""}}), "\"a\"", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "*"}}), "", -1));  // nothing to match
}

TEST(Conditional, EntityTagsAreComparedAsRfc9110Defines) {
  // §8.8.3: a ',' inside the quotes belongs to the tag
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "\"a,b\""}}), "\"a,b\"", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "\"a\", \"b\""}}), "\"a,b\"", -1));
  // unquoted, mis-cased weak indicator or malformed: never a match
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "a"}}), "\"a\"", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "a"}}), "a", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "\"a\""}}), "a", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "w/\"a\""}}), "\"a\"", -1));
  EXPECT_FALSE(not_modified(with({{"If-None-Match", "\"a\" \"b\""}}), "\"b\"", -1));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", ", \"x\",, W/\"a\""}}), "\"a\"", -1));
}

TEST(Conditional, IfNoneMatchDecidesAloneOverIfModifiedSince) {
  int64_t lm = 1700000000;
  auto r = with({{"If-None-Match", "\"b\""}, {"If-Modified-Since", format_http_date(lm + 100)}});
  EXPECT_FALSE(not_modified(r, "\"a\"", lm));
}

TEST(Conditional, IfModifiedSince) {
  int64_t lm = 1700000000;
  EXPECT_TRUE(not_modified(with({{"If-Modified-Since", format_http_date(lm)}}), "\"a\"", lm));
  EXPECT_FALSE(not_modified(with({{"If-Modified-Since", format_http_date(lm - 1)}}), "\"a\"", lm));
  EXPECT_FALSE(not_modified(with({{"If-Modified-Since", "yesterday"}}), "\"a\"", lm));
  EXPECT_FALSE(not_modified(with({{"If-Modified-Since", format_http_date(lm)}}), "\"a\"", -1));
  EXPECT_FALSE(not_modified(with({}), "\"a\"", lm));
}

}  // namespace
}  // namespace cdn::http
