// Watched origins (geo.origins): read from the config with file:line errors, polled like the edges
// (down after K failures, their live channels read from /healthz), carried across a reload and
// shown in /state beside the sites, never as an edge.
#include <gtest/gtest.h>

#include "common/auth/json.h"
#include "common/config/server_config.h"
#include "geo/health_poller.h"
#include "geo/steering_core.h"
#include "geo_fixture.h"

namespace cdn::geo {
namespace {

Result<config::ServerConfig> parse(const std::string& origins, GeoConfig& g) {
  return test::parse_config(
      "  edges: [{name: fra-1, site: fra, ipv4: [127.0.0.2], admin: 'http://127.0.0.1:9090'}]\n" +
          origins,
      g);
}

TEST(GeoOriginsConfig, AreOptionalAndReadWithTheirAdminAddress) {
  GeoConfig none;
  ASSERT_TRUE(parse("", none).ok());
  EXPECT_TRUE(none.origins.empty());
  GeoConfig g;
  auto r = parse(
      "  origins:\n"
      "    - {name: origin-1, admin: 'http://127.0.0.5:9092'}\n"
      "    - {name: origin-2, admin: 'http://[::1]:9093/'}\n",
      g);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(g.origins.size(), 2u);
  EXPECT_EQ(g.origins[0].name, "origin-1");
  EXPECT_EQ(g.origins[0].admin.str(), "127.0.0.5:9092");
  EXPECT_EQ(g.origins[1].admin.port, 9093);
  EXPECT_EQ(g.edges.size(), 1u);  // an origin is never an edge
}

TEST(GeoOriginsConfig, ProblemsNameTheLine) {
  GeoConfig g;
  auto r = parse(
      "  origins:\n"
      "    - {name: o1, admin: 'http://127.0.0.5:9092'}\n"
      "    - {name: o1, admin: 'http://127.0.0.6:9092'}\n"
      "    - {name: o3, admin: 'http://origin.example:9092'}\n"
      "    - {name: o4}\n"
      "    - {name: o5, admin: 'http://127.0.0.7:1', weight: 2}\n",
      g);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("t.yaml:10: geo.origins[1].name: duplicate origin \"o1\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:11: geo.origins[2].admin: expected http://<ip>:<port>"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:12: geo.origins[3].admin"), std::string::npos) << m;
  EXPECT_NE(m.find("t.yaml:13: geo.origins[4].weight: unknown key"), std::string::npos) << m;
}

TEST(GeoOriginsPoll, LiveChannelsComeFromTheOriginsHealthz) {
  PollResult r = parse_healthz(200, R"({"status":"ok","tier":"origin","requests_total":4,)"
                                    R"("responses_5xx_total":0,"live_channels":3})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.live_channels, 3);
  EXPECT_EQ(r.stream_sessions, -1);
  EXPECT_EQ(parse_healthz(200, R"({"status":"ok","tier":"edge"})").live_channels, -1);
}

TEST(GeoOriginsPoll, AnOriginIsDownAfterKFailuresAndHasNoCapacityToBeOver) {
  HealthConfig cfg;
  cfg.down_after = 2;
  cfg.up_after = 2;
  EdgeStatus s;
  PollResult busy;
  busy.ok = true;
  busy.connections = 1'000'000;  // far past any edge's default capacity
  busy.egress_bytes_per_s = 1e12;
  busy.live_channels = 2;
  EXPECT_TRUE(apply_origin_poll(s, busy, cfg, 1));
  EXPECT_EQ(s.health, EdgeStatus::Health::Up);
  EXPECT_TRUE(s.available);
  EXPECT_EQ(s.reason, "ok");
  EXPECT_EQ(s.live_channels, 2);
  PollResult failed;
  failed.error = "connect-error";
  EXPECT_FALSE(apply_origin_poll(s, failed, cfg, 2));
  EXPECT_TRUE(apply_origin_poll(s, failed, cfg, 3));
  EXPECT_EQ(s.health, EdgeStatus::Health::Down);
  EXPECT_EQ(s.reason, "down: connect-error");
  EXPECT_EQ(s.live_channels, 2);  // the last known count
  EXPECT_EQ(s.last_change_ms, 3);
}

class GeoOriginsState : public ::testing::Test {
 protected:
  static std::shared_ptr<GeoConfig> config() {
    auto g = std::make_shared<GeoConfig>(test::two_sites());
    g->origins = {{"origin-1", {"127.0.0.5", 9092}}, {"origin-2", {"127.0.0.6", 9092}}};
    return g;
  }
  static std::unique_ptr<SteeringCore> core(std::shared_ptr<GeoConfig> g) {
    auto d = load_locator_data(*g);
    EXPECT_TRUE(d.ok());
    return std::make_unique<SteeringCore>(g, std::move(d.value()));
  }
};

TEST_F(GeoOriginsState, StateListsTheOriginsBesideTheSites) {
  auto g = config();
  auto c = core(g);
  auto snap = std::make_shared<HealthSnapshot>(test::all_available(*g));
  snap->origins.resize(2);
  snap->origins[0].health = EdgeStatus::Health::Up;
  snap->origins[0].reason = "ok";
  snap->origins[0].live_channels = 3;
  snap->origins[0].rates.requests_per_s = 1.5;
  snap->origins[0].rates.errors_5xx_per_s = 0;
  snap->origins[0].last_change_ms = 1234;
  c->publish(snap);
  auto v = auth::json::parse(c->state_json(), {1 << 20, 8});
  ASSERT_TRUE(v && v->as_object());
  const auto* origins = v->find("origins");
  ASSERT_TRUE(origins && origins->as_array());
  ASSERT_EQ(origins->as_array()->size(), 2u);
  const auto& o = (*origins->as_array())[0];
  EXPECT_EQ(*o.find("name")->as_string(), "origin-1");
  EXPECT_EQ(*o.find("health")->as_string(), "up");
  EXPECT_EQ(o.find("live_channels")->as_number()->d, 3);
  EXPECT_EQ(o.find("requests_per_s")->as_number()->d, 1.5);
  EXPECT_EQ(o.find("errors_5xx_per_s")->as_number()->d, 0);
  EXPECT_EQ(o.find("last_change_ms")->as_number()->d, 1234);
  const auto& never = (*origins->as_array())[1];
  EXPECT_EQ(*never.find("health")->as_string(), "unknown");
  EXPECT_TRUE(never.find("live_channels")->is_null());
  EXPECT_TRUE(never.find("requests_per_s")->is_null());
  // The sites and their edges are what they were: no origin among them.
  EXPECT_EQ(c->state_json().find("\"name\":\"origin-1\""),
            c->state_json().rfind("\"name\":\"origin-1\""));
}

TEST_F(GeoOriginsState, AReloadKeepsTheHealthOfOriginsThatStay) {
  auto g = config();
  auto c = core(g);
  auto snap = std::make_shared<HealthSnapshot>(test::all_available(*g));
  snap->origins.resize(2);
  for (auto& o : snap->origins) o.health = EdgeStatus::Health::Up;
  c->publish(snap);
  auto next_cfg = config();
  next_cfg->origins[1].admin.port = 1;  // same name, another admin address: another origin
  next_cfg->origins.push_back({"origin-3", {"127.0.0.7", 9092}});
  auto next = core(next_cfg);
  next->seed_health(*g, *c->health());
  auto h = next->health();
  ASSERT_EQ(h->origins.size(), 3u);
  EXPECT_EQ(h->origins[0].health, EdgeStatus::Health::Up);
  EXPECT_EQ(h->origins[1].health, EdgeStatus::Health::Unknown);
  EXPECT_EQ(h->origins[2].health, EdgeStatus::Health::Unknown);
}

}  // namespace
}  // namespace cdn::geo
