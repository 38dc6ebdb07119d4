#include "common/auth/base64url.h"

#include <gtest/gtest.h>

namespace cdn::auth {

TEST(Base64Url, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    auto back = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(*back, bytes);
    bytes += static_cast<char>(i * 37 + 250);
  }
}

TEST(Base64Url, KnownVectors) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(*base64url_decode("Zm8"), "fo");
  EXPECT_EQ(*base64url_decode(""), "");
}

TEST(Base64Url, RejectsPaddingAndForeignCharacters) {
  for (const char* bad : {"Zm8=", "Zm9vYg==", "Zm9v+g", "Zm9v/g", "Zm 9v", "Zm9v\n", "Z", "Zm9vY", "A===", "=="})
    EXPECT_FALSE(base64url_decode(bad).has_value()) << bad;
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  EXPECT_TRUE(base64url_decode("Zg").has_value());    // "f"
  EXPECT_FALSE(base64url_decode("Zh").has_value());   // same byte, stray low bits
  EXPECT_FALSE(base64url_decode("Zm9").has_value() && base64url_decode("Zm9")->size() != 2);
  EXPECT_FALSE(base64url_decode("Zm9=").has_value());
}

}  // namespace cdn::auth
