#include "common/util/strings.h"

#include <gtest/gtest.h>

namespace cdn {
namespace {

TEST(Strings, IequalsFoldsOnlyAsciiLetters) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("abc", "abcd"));
  // Pairs that differ only in bit 0x20 but are not letters must not compare equal.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("^", "~"));
  for (int c = 0; c < 256; ++c) {
    for (int d = 0; d < 256; ++d) {
      char a[1] = {char(c)}, b[1] = {char(d)};
      bool expect = c == d || (std::tolower(c) == std::tolower(d) && std::isalpha(c) && std::isalpha(d) && c < 128 && d < 128);
      ASSERT_EQ(iequals(std::string_view(a, 1), std::string_view(b, 1)), expect) << c << " " << d;
    }
  }
}

TEST(Strings, PercentEncodeRoundTripsThroughUrlDecode) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(char(c));
  auto enc = percent_encode(all);
  EXPECT_EQ(enc.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%"), std::string::npos);
  auto dec = url_decode(enc);
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(*dec, all);
  EXPECT_FALSE(url_decode("%4").has_value());
  EXPECT_FALSE(url_decode("%zz").has_value());
}

}  // namespace
}  // namespace cdn

TEST(XmlEscape, EntitiesAndTemplateDollars) {
  EXPECT_EQ(cdn::xml_escape(R"(a&b<c>"d'$e)"), "a&amp;b&lt;c&gt;&quot;d&apos;$e");
  EXPECT_EQ(cdn::xml_escape("token=$x$&y", true), "token=$$x$$&amp;y");
  EXPECT_EQ(cdn::xml_escape(""), "");
}
