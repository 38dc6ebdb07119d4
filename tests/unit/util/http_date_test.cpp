#include "common/util/http_date.h"

#include <gtest/gtest.h>

namespace cdn {
namespace {

constexpr int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, ParsesAllThreeFormats) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), k1994);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), k1994);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), k1994);
  EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), k1994);
}

TEST(HttpDate, RejectsMalformed) {
  for (const char* bad : {"", "0", "-1", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT junk", "Sun Nov 06 08:49:37", "Sun,"})
    EXPECT_EQ(parse_http_date(bad), -1) << bad;
}

TEST(HttpDate, FormatsImfFixdateAndRoundTrips) {
  EXPECT_EQ(format_http_date(k1994), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  for (int64_t t = 0; t < 4'000'000'000; t += 12'345'679) EXPECT_EQ(parse_http_date(format_http_date(t)), t);
}

TEST(HttpDate, TwoDigitYearsBelow70AreThisCentury) {
  EXPECT_EQ(parse_http_date("Monday, 01-Jan-24 00:00:00 GMT"), 1704067200);
}

}  // namespace
}  // namespace cdn
