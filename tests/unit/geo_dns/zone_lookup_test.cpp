#include "geo/dns/zone_lookup.h"

#include <gtest/gtest.h>

#include "tests/unit/geo_dns/fake_steering.h"

namespace cdn::geo::dns {
namespace {

using Kind = NameInfo::Kind;

TEST(ZoneLookup, KindsOfNames) {
  ZoneConfig z = testing::test_zone();
  EXPECT_EQ(look_up(z, "cdn.example").kind, Kind::Exists);
  EXPECT_TRUE(look_up(z, "cdn.example").apex);
  EXPECT_EQ(look_up(z, "video.cdn.example").delivery, 0);
  EXPECT_EQ(look_up(z, "deep.eu.cdn.example").delivery, 2);
  EXPECT_EQ(look_up(z, "eu.cdn.example").kind, Kind::Exists);  // empty non-terminal
  EXPECT_EQ(look_up(z, "eu.cdn.example").delivery, -1);
  EXPECT_EQ(look_up(z, "x.video.cdn.example").kind, Kind::Missing);
  EXPECT_EQ(look_up(z, "nope.cdn.example").kind, Kind::Missing);
  EXPECT_EQ(look_up(z, "xcdn.example").kind, Kind::OutOfZone);
  EXPECT_EQ(look_up(z, "example").kind, Kind::OutOfZone);
  EXPECT_EQ(look_up(z, "").kind, Kind::OutOfZone);
}

TEST(ZoneLookup, FixedAddressesFromEdgesAndGlue) {
  ZoneConfig z = testing::test_zone();
  NameInfo edge = look_up(z, "edge-a.cdn.example");
  ASSERT_EQ(edge.v4.size(), 1u);
  EXPECT_EQ(*edge.v4[0], "127.0.0.11");
  EXPECT_EQ(edge.fixed_ttl, z.edge_name_ttl);
  NameInfo ns1 = look_up(z, "ns1.cdn.example");
  EXPECT_EQ(ns1.v4.size(), 1u);
  EXPECT_EQ(ns1.v6.size(), 1u);
  EXPECT_EQ(ns1.fixed_ttl, z.apex_ttl);
}

TEST(ZoneLookup, ConfigNamesMatchWhateverTheirCaseOrTrailingDot) {
  ZoneConfig z = testing::test_zone();
  z.zone = "CDN.Example.";
  z.delivery_hosts = {"Video.CDN.example."};
  EXPECT_EQ(look_up(z, "video.cdn.example").delivery, 0);
  EXPECT_TRUE(look_up(z, "cdn.example").apex);
  EXPECT_EQ(canonical_name("A.B."), "a.b");
}

}  // namespace
}  // namespace cdn::geo::dns
