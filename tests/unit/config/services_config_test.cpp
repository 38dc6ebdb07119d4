// services: and default_service: (section_services.cpp).
#include <gtest/gtest.h>

#include "common/config/reader.h"
#include "common/config/server_config.h"
#include "tests/unit/config/test_util.h"

namespace cdn::config {
namespace {

using testing::TempDir;
using testing::with_dir;

class ServicesConfigTest : public ::testing::Test {
 protected:
  Result<ServerConfig> parse(const std::string& yaml) {
    return parse_server_config(with_dir(yaml, dir_.path()), "t.yaml");
  }
  TempDir dir_;
};

constexpr const char* kTwoServices = R"(tier: edge
listen: [{address: 127.0.0.1:8443, tls: true}]
cache:
  token_param: tok
  default_ttls: [{match: "*.m3u8", ttl: 2s}]
upstream:
  servers: [{address: 127.0.0.1:8081}]
services:
  - name: live
    hosts: [live.example.com, "*.Live.Example.com"]
    tls:
      certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]
  - name: vod
    hosts: [vod.example.com]
    admin_token: vod-secret
    upstream:
      policy: failover
      servers: [{address: 127.0.0.1:9091}, {address: 127.0.0.1:9092, backup: true}]
    cache:
      default_ttls: [{match: "*.ts", ttl: 1h}]
      ignore_query_params: [session]
    limits: {max_body_bytes: 64KiB}
default_service: vod
)";

TEST_F(ServicesConfigTest, ServicesInheritWhatTheyDoNotSet) {
  auto r = parse(kTwoServices);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->services.size(), 2u);
  const ServiceConfig& live = r->services[0];
  const ServiceConfig& vod = r->services[1];
  EXPECT_EQ(live.name, "live");
  EXPECT_EQ(live.hosts, (std::vector<std::string>{"live.example.com", "*.live.example.com"}));
  ASSERT_EQ(live.upstream.servers.size(), 1u);  // the top level's
  EXPECT_EQ(live.upstream.servers[0].address.port, 8081);
  EXPECT_EQ(live.cache.token_param, "tok");
  ASSERT_EQ(live.cache.default_ttls.size(), 1u);
  EXPECT_EQ(live.cache.default_ttls[0].match, "*.m3u8");

  EXPECT_EQ(vod.upstream.policy, UpstreamPolicy::Failover);
  ASSERT_EQ(vod.upstream.servers.size(), 2u);
  ASSERT_EQ(vod.cache.default_ttls.size(), 1u);  // replaced, not appended
  EXPECT_EQ(vod.cache.default_ttls[0].ttl_ms, 3'600'000);
  EXPECT_EQ(vod.cache.ignore_query_params, (std::vector<std::string>{"session"}));
  EXPECT_EQ(vod.cache.token_param, "tok");
  EXPECT_EQ(vod.admin_token, "vod-secret");
  EXPECT_EQ(vod.max_body_bytes, 64u * 1024);
  EXPECT_EQ(r->default_service, "vod");
  // The service's certificate joined the SNI list, which the listener's tls: true needed.
  ASSERT_TRUE(r->tls);
  EXPECT_EQ(r->tls->certificates.size(), 1u);
}

TEST_F(ServicesConfigTest, NoServicesIsTheImplicitOne) {
  auto r = parse(R"(tier: shield
listen: [{address: 127.0.0.1:8080}]
upstream: {servers: [{address: 127.0.0.1:8081}]}
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->services.empty());
  EXPECT_TRUE(r->default_service.empty());
}

TEST_F(ServicesConfigTest, ProblemsNameFileAndLine) {
  auto r = parse(R"(tier: shield
upstream: {servers: [{address: 127.0.0.1:8081}]}
services:
  - name: a
    hosts: [a.example.com, "*.x.example.com"]
  - name: Bad Name
    hosts: [A.example.com]
  - name: a
    hosts: ["b..example.com", "*.X.example.com"]
    cache: {disk_path: /tmp, default_ttls: [{match: "*", ttl: 1s}]}
    access: {enabled: false}
  - name: c
    hosts: []
default_service: nope
)");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("t.yaml:6: services[1].name: \"Bad Name\" is not a service name"),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          "t.yaml:7: services[1].hosts: duplicate host \"a.example.com\" (also in service \"a\")"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:8: services[2].name: duplicate service name \"a\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:9: services[2].hosts: \"b..example.com\" is not a host name"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:9: services[2].hosts: duplicate host \"*.x.example.com\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:10: services[2].cache.disk_path: is process-wide"), std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:11: services[2].access: only for tier edge"), std::string::npos) << m;
  EXPECT_NE(m.find("t.yaml:13: services[3].hosts: needs at least one host name"), std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:14: default_service: no service is named \"nope\""), std::string::npos)
      << m;
}

TEST_F(ServicesConfigTest, ServicesWithoutATopLevelUpstreamBringTheirOwn) {
  auto ok = parse(R"(tier: shield
listen: [{address: 127.0.0.1:8080}]
services:
  - {name: a, hosts: [a.example], upstream: {servers: [{address: 127.0.0.1:8081}]}}
)");
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  auto missing = parse(R"(tier: shield
listen: [{address: 127.0.0.1:8080}]
services:
  - {name: a, hosts: [a.example]}
)");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("t.yaml:4: services[0]: needs an upstream section"),
            std::string::npos)
      << missing.error().message;
}

TEST_F(ServicesConfigTest, OriginHasNoServices) {
  auto r = parse(R"(tier: origin
origin: {root: @DIR@/vod}
services: []
)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.yaml:3: services: only for tiers edge and shield"),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace cdn::config
