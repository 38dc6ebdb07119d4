#include "common/auth/extract.h"

#include <gtest/gtest.h>

namespace cdn::auth {

TEST(ExtractToken, FromEachPlaceInPriorityOrder) {
  EXPECT_EQ(extract_token("a=1&token=q1&b=2", "token=c1", "Bearer b1", "token"), "q1");
  EXPECT_EQ(extract_token("URISigningPackage=u1", "token=c1", "Bearer b1", "token"), "u1");
  EXPECT_EQ(extract_token("token=q1&URISigningPackage=u1", "", "", "token"), "q1");
  EXPECT_EQ(extract_token("a=1", "x=y; token=c1; z=w", "Bearer b1", "token"), "c1");
  EXPECT_EQ(extract_token("", "URISigningPackage=\"c2\"", "", "token"), "c2");
  EXPECT_EQ(extract_token("", "", "Bearer b1", "token"), "b1");
  EXPECT_EQ(extract_token("", "", "bearer   b2 ", "token"), "b2");
}

TEST(ExtractToken, AbsentOrEmpty) {
  EXPECT_EQ(extract_token("", "", "", "token"), std::nullopt);
  EXPECT_EQ(extract_token("token=", "token=", "Bearer ", "token"), std::nullopt);
  EXPECT_EQ(extract_token("tokenx=1&xtoken=2&token", "tokens=1", "Basic abc", "token"), std::nullopt);
  EXPECT_EQ(extract_token("", "", "Bearerabc", "token"), std::nullopt);
  EXPECT_EQ(extract_token("token=%zz", "", "", "token"), std::nullopt);  // malformed escape
}

TEST(ExtractToken, AnEmptyOrMalformedQueryTokenDoesNotHideALaterOne) {
  EXPECT_EQ(extract_token("token=&token=abc", "", "", "token"), "abc");
  EXPECT_EQ(extract_token("token=%zz&token=abc", "", "", "token"), "abc");
  EXPECT_EQ(extract_token("token&token=abc", "", "", "token"), "abc");
  EXPECT_EQ(extract_token("t%6Fken=abc", "", "", "token"), std::nullopt);  // names match as sent
}

TEST(ExtractToken, PercentDecodesQueryValues) {
  EXPECT_EQ(extract_token("token=a.b%2Ec", "", "", "t"), std::nullopt);
  EXPECT_EQ(extract_token("t=a.b%2Ec", "", "", "t"), "a.b.c");
}

TEST(StripParam, RemovesTokenKeepsTheRest) {
  EXPECT_EQ(strip_param("a=1&token=xyz&b=2", "token"), "a=1&b=2");
  EXPECT_EQ(strip_param("token=xyz", "token"), "");
  EXPECT_EQ(strip_param("token=1&URISigningPackage=2&c=%2F", "token"), "c=%2F");
  EXPECT_EQ(strip_param("tokens=1&token", "token"), "tokens=1");
  EXPECT_EQ(strip_param("b=2&a=1", "token"), "b=2&a=1");
  EXPECT_EQ(strip_param("", "token"), "");
}

}  // namespace cdn::auth
