#include "common/auth/address.h"

#include <gtest/gtest.h>

namespace cdn::auth {
namespace {

TEST(AddressPlace, CutsToThePrefixOfTheFamily) {
  EXPECT_EQ(address_place("203.0.113.77", 24, 56), "203.0.113.0/24");
  EXPECT_EQ(address_place("203.0.113.77", 32, 56), "203.0.113.77/32");
  EXPECT_EQ(address_place("203.0.113.77", 20, 56), "203.0.112.0/20");
  EXPECT_EQ(address_place("203.0.113.77", 0, 56), "0.0.0.0/0");
  EXPECT_EQ(address_place("2001:db8:1:2ff:1::5", 24, 56), "2001:db8:1:200::/56");
  EXPECT_EQ(address_place("2001:db8:1:2ff:1::5", 24, 128), "2001:db8:1:2ff:1::5/128");
  // A dual-stack socket's IPv4-mapped form is the IPv4 place; IPv6 is another family.
  EXPECT_EQ(address_place("::ffff:203.0.113.77", 24, 56), "203.0.113.0/24");
  EXPECT_NE(address_place("::cb00:714d", 24, 0), address_place("203.0.113.77", 0, 0));
  // Out-of-range prefixes are clamped; non-addresses pass through unchanged.
  EXPECT_EQ(address_place("203.0.113.77", 99, 56), "203.0.113.77/32");
  EXPECT_EQ(address_place("203.0.113.77", -5, 56), "0.0.0.0/0");
  EXPECT_EQ(address_place("unix:/tmp/x", 24, 56), "unix:/tmp/x");
}

}  // namespace
}  // namespace cdn::auth
