#include "common/http/range.h"

#include <gtest/gtest.h>

#include "common/util/http_date.h"

namespace cdn::http {
namespace {

Request get(std::initializer_list<Header> hs, std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  for (auto& h : hs) r.headers.add(h.name, h.value);
  return r;
}

TEST(ParseRange, FirstLastSuffixAndOpenEnded) {
  ByteRange r;
  ASSERT_EQ(parse_range("bytes=0-9", 100, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 9u);
  ASSERT_EQ(parse_range("bytes=90-", 100, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=-5", 100, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.first, 95u);
  EXPECT_EQ(r.length(), 5u);
  ASSERT_EQ(parse_range("bytes=-500", 100, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.first, 0u);
  ASSERT_EQ(parse_range("bytes=50-5000", 100, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.last, 99u);
}

TEST(ParseRange, UnsatisfiableAndIgnored) {
  ByteRange r;
  EXPECT_EQ(parse_range("bytes=100-", 100, r), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100, r), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0, r), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 100, r), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=5-1", 100, r), RangeResult::None);
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 100, r), RangeResult::None);
  EXPECT_EQ(parse_range("items=0-1", 100, r), RangeResult::None);
  EXPECT_EQ(parse_range("bytes=a-1", 100, r), RangeResult::None);
  EXPECT_EQ(parse_range("bytes=-", 100, r), RangeResult::None);
  EXPECT_EQ(parse_range("bytes=+1-2", 100, r), RangeResult::None);
}

TEST(ParseRange, SixtyFourBitOffsets) {
  const uint64_t size = (5ull << 30) + 17;
  ByteRange r;
  ASSERT_EQ(parse_range("bytes=4294967290-4294967305", size, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.first, 4294967290u);
  EXPECT_EQ(r.last, 4294967305u);
  ASSERT_EQ(parse_range("bytes=-16", size, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.first, size - 16);
  ASSERT_EQ(parse_range("bytes=0-99999999999999999999999", size, r), RangeResult::Satisfiable);
  EXPECT_EQ(r.last, size - 1);
}

TEST(IfRange, StrongEtagOnly) {
  Validators v{"\"abc\"", -1, -1};
  EXPECT_TRUE(if_range_matches("\"abc\"", v));
  EXPECT_TRUE(if_range_matches(" \"abc\" ", v));
  EXPECT_FALSE(if_range_matches("\"abd\"", v));
  EXPECT_FALSE(if_range_matches("W/\"abc\"", v));  // weak in the request
  Validators weak{"W/\"abc\"", -1, -1};
  EXPECT_FALSE(if_range_matches("\"abc\"", weak));  // weak on the representation
  EXPECT_FALSE(if_range_matches("W/\"abc\"", weak));
  Validators none{"", -1, -1};
  EXPECT_FALSE(if_range_matches("\"abc\"", none));
}

TEST(IfRange, DateMatchesOnlyStrongLastModifiedExactly) {
  const int64_t lm = 1'700'000'000;
  Validators v{"", lm, lm + 60};
  EXPECT_TRUE(if_range_matches(format_http_date(lm), v));
  EXPECT_FALSE(if_range_matches(format_http_date(lm + 1), v));  // later is not "unchanged"
  EXPECT_FALSE(if_range_matches(format_http_date(lm - 1), v));
  Validators weak_lm{"", lm, lm};  // Date == Last-Modified: may have changed within the second
  EXPECT_FALSE(if_range_matches(format_http_date(lm), weak_lm));
  Validators no_date{"", lm, -1};
  EXPECT_FALSE(if_range_matches(format_http_date(lm), no_date));
  EXPECT_FALSE(if_range_matches("not a date", v));
  EXPECT_FALSE(if_range_matches(format_http_date(lm), Validators{"\"x\"", -1, lm + 60}));
}

TEST(PlanRange, HonoursRangeOnGetWhenIfRangeMatches) {
  Validators v{"\"e1\"", -1, -1};
  auto p = plan_range(get({{"Range", "bytes=10-19"}}), 100, v);
  ASSERT_EQ(p.kind, RangePlan::Kind::Partial);
  EXPECT_EQ(p.range.first, 10u);
  EXPECT_EQ(content_range(p, 100), "bytes 10-19/100");
  p = plan_range(get({{"Range", "bytes=10-19"}, {"If-Range", "\"e1\""}}), 100, v);
  EXPECT_EQ(p.kind, RangePlan::Kind::Partial);
}

TEST(PlanRange, StaleIfRangeGivesWholeRepresentation) {
  Validators v{"\"e2\"", -1, -1};
  EXPECT_EQ(plan_range(get({{"Range", "bytes=10-19"}, {"If-Range", "\"e1\""}}), 100, v).kind,
            RangePlan::Kind::Full);
  // A stale If-Range also overrides what would have been a 416.
  EXPECT_EQ(plan_range(get({{"Range", "bytes=500-"}, {"If-Range", "\"e1\""}}), 100, v).kind,
            RangePlan::Kind::Full);
}

TEST(PlanRange, UnsatisfiableAndNonGet) {
  Validators v{};
  auto p = plan_range(get({{"Range", "bytes=100-"}}), 100, v);
  ASSERT_EQ(p.kind, RangePlan::Kind::Unsatisfiable);
  EXPECT_EQ(content_range(p, 100), "bytes */100");
  EXPECT_EQ(plan_range(get({{"Range", "bytes=0-1"}}, "HEAD"), 100, v).kind, RangePlan::Kind::Full);
  EXPECT_EQ(plan_range(get({}), 100, v).kind, RangePlan::Kind::Full);
  EXPECT_EQ(plan_range(get({{"If-Range", "\"x\""}}), 100, v).kind, RangePlan::Kind::Full);
}

}  // namespace
}  // namespace cdn::http
