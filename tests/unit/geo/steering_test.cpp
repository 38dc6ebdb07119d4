// The contract's Steering: the ECS address locates the viewer when present, the scope is the
// prefix that decided, answers carry the chosen edges' addresses of the asked family, and every
// address inside the returned scope gets the same answer.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "geo/steering_core.h"
#include "geo_fixture.h"

namespace cdn::geo {
namespace {

// The answer's addresses as text, in order.
std::vector<std::string> texts(const SteerAnswer& a) {
  std::vector<std::string> out;
  for (size_t g = 0; g < a.group_count; ++g)
    for (const WireAddress& w : a.groups[g]) {
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(w.len == 4 ? AF_INET : AF_INET6, w.bytes.data(), buf, sizeof buf);
      out.emplace_back(buf);
    }
  return out;
}

class SteeringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = std::make_shared<GeoConfig>(test::two_sites());
    cov_ = test::temp_dir() / "steer-cov.txt";
    test::write_file(cov_, "10.20.0.0/16 ams\n10.30.0.0/20 fra\n");
    g->coverage_zones = cov_.string();
    g->maxmind = test::test_mmdb();
    g->default_site = 2;
    g->records_per_answer = 1;
    g->ttl_s = 20;
    auto d = load_locator_data(*g);
    ASSERT_TRUE(d.ok()) << d.error().message;
    core_ = std::make_unique<SteeringCore>(g, std::move(d.value()));
    core_->publish(std::make_shared<HealthSnapshot>(test::all_available(*g)));
  }

  static sockaddr_storage addr(const char* s) { return to_sockaddr(*parse_ip(s)); }

  std::filesystem::path cov_;
  std::unique_ptr<SteeringCore> core_;
};

TEST_F(SteeringTest, EcsAddressDecidesAndScopeIsTheZonePrefix) {
  SteerQuery q;
  q.host = "video.cdn.test";
  q.resolver = addr("10.30.0.1");  // fra by coverage
  ClientSubnet ecs;
  ecs.family = AF_INET;
  ecs.source_prefix = 24;
  ecs.address = addr("10.20.5.0");  // ams by coverage
  q.ecs = ecs;
  SteerAnswer a = core_->steer(q);
  EXPECT_EQ(a.ttl, 20u);
  EXPECT_EQ(a.scope_prefix, 16);
  ASSERT_EQ(texts(a).size(), 1u);
  EXPECT_TRUE(texts(a)[0] == "192.0.2.3" || texts(a)[0] == "192.0.2.4") << texts(a)[0];
  q.ecs.reset();
  a = core_->steer(q);
  EXPECT_EQ(a.scope_prefix, 20);
  ASSERT_EQ(texts(a).size(), 1u);
  EXPECT_TRUE(texts(a)[0] == "192.0.2.1" || texts(a)[0] == "192.0.2.2") << texts(a)[0];
}

TEST_F(SteeringTest, EveryAddressInTheScopeGetsTheSameAnswer) {
  SteerQuery q;
  q.resolver = addr("198.51.100.1");  // MaxMind: Frankfurt, network /24
  SteerAnswer first = core_->steer(q);
  EXPECT_EQ(first.scope_prefix, 24);
  for (const char* s : {"198.51.100.77", "198.51.100.200", "198.51.100.255"}) {
    q.resolver = addr(s);
    EXPECT_EQ(texts(core_->steer(q)), texts(first)) << s;
  }
}

TEST_F(SteeringTest, AaaaAnswersOnlyEdgesWithIpv6AndDefaultScopeIsZero) {
  SteerQuery q;
  q.family = AF_INET6;
  q.resolver = addr("100.64.0.1");  // unknown everywhere: default site lon, which has no IPv6
  SteerAnswer a = core_->steer(q);
  EXPECT_EQ(a.scope_prefix, 0);
  ASSERT_EQ(texts(a).size(), 1u);
  EXPECT_EQ(texts(a)[0], "2001:db8::3");
}

TEST_F(SteeringTest, NoAvailableEdgeIsAnEmptyAnswer) {
  auto h = std::make_shared<HealthSnapshot>();
  h->edges.resize(core_->config().edges.size());
  core_->publish(h);
  SteerQuery q;
  q.resolver = addr("10.20.0.1");
  EXPECT_TRUE(texts(core_->steer(q)).empty());
}

TEST_F(SteeringTest, HttpDecisionIsKeyedByPathAndRedirectsByEdgeName) {
  Decision d = core_->decide(*parse_ip("10.20.1.1"), AddressSource::Viewer, "/vod/a.ts", 0, false);
  ASSERT_TRUE(d.choice.found);
  EXPECT_EQ(d.key_kind, "path");
  std::string url = core_->redirect_url(d, "/vod/a.ts?token=abc");
  const std::string& edge = core_->config().edges[d.choice.edges[0]].name;
  EXPECT_EQ(url, "https://" + edge + ".cdn.test/vod/a.ts?token=abc");
  // Another viewer in the same site asking for the same content goes to the same edge.
  Decision d2 =
      core_->decide(*parse_ip("10.20.200.9"), AddressSource::Viewer, "/vod/a.ts", 0, false);
  EXPECT_EQ(d2.choice.edges, d.choice.edges);
  std::string j = core_->decision_json(d);
  EXPECT_NE(j.find("\"located\":{\"by\":\"coverage\",\"site\":\"ams\",\"scope\":16}"),
            std::string::npos)
      << j;
}

TEST_F(SteeringTest, ANewGenerationKeepsTheHealthOfEdgesThatStay) {
  auto g = std::make_shared<GeoConfig>(core_->config());
  g->edges[0].name = "fra-9";           // a new edge: not known yet
  g->edges[1].admin.port = 1;           // same name, another admin address: another edge
  std::swap(g->edges[2], g->edges[4]);  // order does not matter, names do
  auto d = load_locator_data(*g);
  ASSERT_TRUE(d.ok());
  SteeringCore next(g, std::move(d.value()));
  next.seed_health(core_->config(), *core_->health());
  auto h = next.health();
  EXPECT_FALSE(h->edges[0].available);
  EXPECT_EQ(h->edges[0].health, EdgeStatus::Health::Unknown);
  EXPECT_FALSE(h->edges[1].available);
  for (size_t i : {2u, 3u, 4u}) EXPECT_TRUE(h->edges[i].available) << g->edges[i].name;
}

}  // namespace
}  // namespace cdn::geo
