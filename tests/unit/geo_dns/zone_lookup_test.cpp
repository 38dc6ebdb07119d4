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
  auto addresses = [&](std::string_view name, const NameInfo& info, int family) {
    std::vector<std::string> out;
    for_each_fixed_address(z, name, info, family,
                           [&](const std::string& ip) { out.push_back(ip); });
    return out;
  };
  NameInfo edge = look_up(z, "edge-a.cdn.example");
  EXPECT_EQ(addresses("edge-a.cdn.example", edge, AF_INET), std::vector<std::string>{"127.0.0.11"});
  EXPECT_EQ(edge.fixed_ttl, z.edge_name_ttl);
  NameInfo ns1 = look_up(z, "ns1.cdn.example");
  EXPECT_EQ(addresses("ns1.cdn.example", ns1, AF_INET), std::vector<std::string>{"192.0.2.53"});
  EXPECT_EQ(addresses("ns1.cdn.example", ns1, AF_INET6), std::vector<std::string>{"2001:db8::53"});
  EXPECT_EQ(ns1.fixed_ttl, z.apex_ttl);
  EXPECT_TRUE(addresses("ns2.cdn.example", look_up(z, "ns2.cdn.example"), AF_INET6).empty());
}

TEST(ZoneLookup, ConfigNamesMatchWhateverTheirCaseOrTrailingDot) {
  ZoneConfig z = testing::test_zone();
  z.zone = "CDN.Example.";
  z.delivery_hosts = {"Video.CDN.example."};
  EXPECT_EQ(look_up(z, "video.cdn.example").delivery, 0);
  EXPECT_TRUE(look_up(z, "cdn.example").apex);
  EXPECT_EQ(canonical_name("A.B."), "a.b");
  EXPECT_TRUE(same_name("Ns1.CDN.example.", "ns1.cdn.EXAMPLE"));
  EXPECT_FALSE(same_name("ns1.cdn.example", "ns11.cdn.example"));
}

}  // namespace
}  // namespace cdn::geo::dns
