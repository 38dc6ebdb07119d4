// EDNS Client Subnet through answer_query(): what reaches Steering, the scope echoed, FORMERR for
// malformed options, private addresses ignored; and the metric for each outcome.
#include "geo/dns/client_subnet.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "common/obs/metrics.h"
#include "geo/dns/dns_server.h"
#include "tests/unit/geo_dns/dns_wire.h"
#include "tests/unit/geo_dns/fake_steering.h"

namespace cdn::geo {
namespace {

using testing::Answer;
using testing::build_query;
using testing::ecs_data;
using testing::QuerySpec;

uint64_t ecs_count(const char* result) {
  return obs::metrics().counter("cdn_dns_ecs_total", "", {{"result", result}}).value();
}

class ClientSubnet : public ::testing::Test {
 protected:
  ClientSubnet() {
    testing::fill_test_steering(steering);
    auto* in = reinterpret_cast<sockaddr_in*>(&resolver);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);  // loopback resolvers are used as they are
  }
  Answer ask(std::vector<uint8_t> ecs, std::string name = "video.cdn.example",
             uint16_t qtype = KNOT_RRTYPE_A) {
    std::string q =
        build_query({.name = name, .qtype = qtype, .edns = true, .ecs = std::move(ecs)});
    return Answer(answer_query(zone, steering, reinterpret_cast<const uint8_t*>(q.data()), q.size(),
                               resolver, false));
  }
  ZoneConfig zone = testing::test_zone();
  testing::FakeSteering steering;
  sockaddr_storage resolver{};
};

TEST_F(ClientSubnet, UsedForADeliveryHostWithTheScopeFromSteering) {
  uint64_t used = ecs_count("used");
  Answer a = ask(ecs_data(1, 24, 0, {1, 2, 3}));
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
  auto q = steering.last();
  ASSERT_TRUE(q.ecs.has_value());
  EXPECT_EQ(q.ecs->family, AF_INET);
  EXPECT_EQ(q.ecs->source_prefix, 24);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&q.ecs->address)->sin_addr, ip,
            sizeof ip);
  EXPECT_STREQ(ip, "1.2.3.0");
  auto echo = a.ecs();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->family, 1);
  EXPECT_EQ(echo->source_len, 24);
  EXPECT_EQ(echo->scope_len, 24);  // FakeSteering's scope: the source prefix cut to /24
  EXPECT_EQ(echo->address[0], 1);
  EXPECT_EQ(echo->address[2], 3);
  EXPECT_EQ(ecs_count("used"), used + 1);
}

TEST_F(ClientSubnet, ScopeComesFromSteeringNotTheSourcePrefix) {
  Answer a = ask(ecs_data(1, 32, 0, {1, 2, 3, 4}));
  ASSERT_TRUE(a.ecs().has_value());
  EXPECT_EQ(a.ecs()->source_len, 32);
  EXPECT_EQ(a.ecs()->scope_len, 24);
}

TEST_F(ClientSubnet, Ipv6) {
  Answer a = ask(ecs_data(2, 48, 0, {0x20, 0x01, 0x0d, 0xb9, 0x00, 0x01}), "video.cdn.example",
                 KNOT_RRTYPE_AAAA);
  ASSERT_TRUE(a.ok);
  ASSERT_TRUE(steering.last().ecs.has_value());
  EXPECT_EQ(steering.last().ecs->family, AF_INET6);
  ASSERT_TRUE(a.ecs().has_value());
  EXPECT_EQ(a.ecs()->family, 2);
  EXPECT_EQ(a.ecs()->scope_len, 48);
}

TEST_F(ClientSubnet, SourcePrefixZeroMeansTheResolverAndScopeZero) {
  uint64_t zero = ecs_count("source-zero");
  Answer a = ask(ecs_data(1, 0, 0, {}));
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
  EXPECT_FALSE(steering.last().ecs.has_value());
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_A).size(), 2u);
  ASSERT_TRUE(a.ecs().has_value());
  EXPECT_EQ(a.ecs()->source_len, 0);
  EXPECT_EQ(a.ecs()->scope_len, 0);
  EXPECT_EQ(ecs_count("source-zero"), zero + 1);
}

TEST_F(ClientSubnet, PrivateAddressesAreIgnored) {
  uint64_t ignored = ecs_count("ignored-private");
  for (auto ecs : {ecs_data(1, 24, 0, {10, 1, 2}), ecs_data(1, 24, 0, {192, 168, 1}),
                   ecs_data(1, 32, 0, {127, 0, 0, 1}), ecs_data(1, 16, 0, {169, 254}),
                   ecs_data(2, 16, 0, {0xfd, 0x00}), ecs_data(2, 16, 0, {0xfe, 0x80})}) {
    Answer a = ask(ecs);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
    EXPECT_FALSE(steering.last().ecs.has_value());
    ASSERT_TRUE(a.ecs().has_value());
    EXPECT_EQ(a.ecs()->scope_len, 0);
  }
  EXPECT_EQ(ecs_count("ignored-private"), ignored + 6);
}

TEST_F(ClientSubnet, AHostThatDoesNotUseEcsGetsScopeZero) {
  uint64_t unused = ecs_count("unused");
  Answer a = ask(ecs_data(1, 24, 0, {1, 2, 3}), "noecs.cdn.example");
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(steering.last().host, "noecs.cdn.example");
  EXPECT_FALSE(steering.last().ecs.has_value());
  ASSERT_TRUE(a.ecs().has_value());
  EXPECT_EQ(a.ecs()->source_len, 24);
  EXPECT_EQ(a.ecs()->scope_len, 0);
  EXPECT_EQ(ecs_count("unused"), unused + 1);
}

TEST_F(ClientSubnet, ApexAndNegativeAnswersEchoWithScopeZero) {
  for (auto [name, type] :
       {std::pair{"cdn.example", KNOT_RRTYPE_SOA}, std::pair{"cdn.example", KNOT_RRTYPE_NS},
        std::pair{"nope.cdn.example", KNOT_RRTYPE_A},
        std::pair{"edge-a.cdn.example", KNOT_RRTYPE_A}, std::pair{"other.test", KNOT_RRTYPE_A}}) {
    Answer a = ask(ecs_data(1, 24, 0, {1, 2, 3}), name, type);
    ASSERT_TRUE(a.ok) << name;
    ASSERT_TRUE(a.ecs().has_value()) << name;
    EXPECT_EQ(a.ecs()->scope_len, 0) << name;
    EXPECT_EQ(a.ecs()->source_len, 24) << name;
  }
  EXPECT_EQ(steering.calls(), 0);
}

TEST_F(ClientSubnet, MalformedOptionsAreFormerr) {
  uint64_t formerr = ecs_count("formerr");
  std::vector<std::vector<uint8_t>> bad = {
      ecs_data(3, 8, 0, {1}),                               // unknown family
      ecs_data(0, 8, 0, {1}),                               // family 0
      ecs_data(1, 33, 0, {1, 2, 3, 4, 5}),                  // prefix longer than IPv4
      ecs_data(2, 129, 0, std::vector<uint8_t>(17, 0x20)),  // prefix longer than IPv6
      ecs_data(1, 24, 0, {1, 2, 3, 4}),  // more address bytes than the prefix needs
      ecs_data(1, 24, 0, {1, 2}),        // fewer
      ecs_data(1, 23, 0, {1, 2, 3}),     // an address bit past the prefix set (3 = ...11)
      ecs_data(1, 0, 0, {1}),            // source 0 with an address
      {0, 1, 24},                        // cut inside the fixed part
  };
  for (const auto& opt : bad) {
    Answer a = ask(opt);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.rcode(), KNOT_RCODE_FORMERR);
    EXPECT_TRUE(a.has_opt());
    EXPECT_FALSE(a.ecs().has_value());
    EXPECT_EQ(a.section(KNOT_ANSWER)->count, 0);
  }
  EXPECT_EQ(steering.calls(), 0);
  EXPECT_EQ(ecs_count("formerr"), formerr + bad.size());
}

TEST(Unroutable, PrivateAndSpecialRangesButNotPublicOrDocumentation) {
  auto v4 = [](const char* ip) {
    sockaddr_storage ss{};
    ss.ss_family = AF_INET;
    inet_pton(AF_INET, ip, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr);
    return dns::is_unroutable(ss);
  };
  auto v6 = [](const char* ip) {
    sockaddr_storage ss{};
    ss.ss_family = AF_INET6;
    inet_pton(AF_INET6, ip, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr);
    return dns::is_unroutable(ss);
  };
  for (const char* ip : {"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "127.0.0.1",
                         "169.254.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"})
    EXPECT_TRUE(v4(ip)) << ip;
  for (const char* ip :
       {"1.2.3.4", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.0.2.1", "203.0.113.9"})
    EXPECT_FALSE(v4(ip)) << ip;
  for (const char* ip :
       {"::", "::1", "fd00::1", "fc00::1", "fe80::1", "ff02::1", "::ffff:10.0.0.1"})
    EXPECT_TRUE(v6(ip)) << ip;
  for (const char* ip : {"2001:4860::8888", "2001:db8::1", "::ffff:1.2.3.4"})
    EXPECT_FALSE(v6(ip)) << ip;
}

}  // namespace
}  // namespace cdn::geo
