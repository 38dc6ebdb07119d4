// Edge health: down after K consecutive failed polls, up after M successes (no flapping), no new
// viewers while draining or over the load share; and reading /healthz answers.
#include <gtest/gtest.h>

#include "geo/edge_health.h"
#include "geo/health_poller.h"
#include "geo_fixture.h"

namespace cdn::geo {
namespace {

PollResult ok(uint64_t conns = 0, double egress_bytes = 0, bool draining = false) {
  PollResult r;
  r.ok = true;
  r.connections = conns;
  r.egress_bytes_per_s = egress_bytes;
  r.draining = draining;
  return r;
}

PollResult fail() {
  PollResult r;
  r.error = "connect-error";
  return r;
}

class EdgeHealthTest : public ::testing::Test {
 protected:
  EdgeHealthTest() {
    cfg_.down_after = 3;
    cfg_.up_after = 2;
    cfg_.load_share = 0.5;
    edge_ = test::edge("e", 0, "192.0.2.1", 100);
    edge_.capacity_egress_bps = 8000;
  }
  bool poll(const PollResult& r) { return apply_poll(s_, r, edge_, cfg_, ++now_); }
  HealthConfig cfg_;
  EdgeConfig edge_;
  EdgeStatus s_;
  int64_t now_ = 0;
};

TEST_F(EdgeHealthTest, FirstPollDecidesThenKDownMUp) {
  EXPECT_EQ(s_.health, EdgeStatus::Health::Unknown);
  EXPECT_FALSE(s_.available);
  EXPECT_TRUE(poll(ok()));
  EXPECT_EQ(s_.health, EdgeStatus::Health::Up);
  EXPECT_TRUE(s_.available);
  EXPECT_FALSE(poll(fail()));
  EXPECT_FALSE(poll(fail()));
  EXPECT_TRUE(s_.available) << "still up until down_after failures in a row";
  EXPECT_NE(s_.reason.find("poll-failed (2/3)"), std::string::npos) << s_.reason;
  EXPECT_TRUE(poll(fail()));
  EXPECT_EQ(s_.health, EdgeStatus::Health::Down);
  EXPECT_FALSE(s_.available);
  int64_t down_at = s_.last_change_ms;
  EXPECT_FALSE(poll(ok()));
  EXPECT_FALSE(s_.available) << "one success is not enough";
  EXPECT_EQ(s_.last_change_ms, down_at);
  EXPECT_FALSE(poll(fail()));  // a failure restarts the count
  EXPECT_FALSE(poll(ok()));
  EXPECT_TRUE(poll(ok()));
  EXPECT_TRUE(s_.available);
  EXPECT_GT(s_.last_change_ms, down_at);
}

TEST_F(EdgeHealthTest, DrainingAndLoadOverShareTakeNoNewViewers) {
  poll(ok());
  poll(ok(0, 0, true));
  EXPECT_EQ(s_.health, EdgeStatus::Health::Up);
  EXPECT_FALSE(s_.available);
  EXPECT_EQ(s_.reason, "draining");
  poll(ok(51));
  EXPECT_FALSE(s_.available);
  EXPECT_EQ(s_.reason, "connections-over-share");
  poll(ok(50));
  EXPECT_TRUE(s_.available);
  poll(ok(0, 600));  // 4800 bit/s > half of 8000
  EXPECT_FALSE(s_.available);
  EXPECT_EQ(s_.reason, "egress-over-share");
  EXPECT_EQ(s_.egress_bps, 4800);
}

TEST_F(EdgeHealthTest, ADrainingEdgeThatStopsAnsweringStaysOutOfUse) {
  poll(ok());
  poll(ok(0, 0, true));
  EXPECT_FALSE(s_.available);
  poll(fail());  // the drained edge exited: still up (1 of 3 failures) but not back in use
  EXPECT_EQ(s_.health, EdgeStatus::Health::Up);
  EXPECT_FALSE(s_.available);
  poll(ok());
  EXPECT_TRUE(s_.available);
  poll(fail());  // and an available edge stays available until down_after failures
  EXPECT_TRUE(s_.available);
}

TEST(ParseHealthz, ReadsTheEdgeAnswer) {
  PollResult r = parse_healthz(
      200, R"({"status":"ok","draining":false,"active_connections":12,"egress_bytes_per_s":1500})");
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.draining);
  EXPECT_EQ(r.connections, 12u);
  EXPECT_EQ(r.egress_bytes_per_s, 1500);
  r = parse_healthz(503, R"({"status":"draining","draining":true,"active_connections":3})");
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.draining);
  r = parse_healthz(500, R"({"status":"ok"})");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "healthz status 500");
  r = parse_healthz(200, "<html>");
  EXPECT_FALSE(r.ok);
}

TEST(ParseHealthz, ReadsTheCumulativeCountersWhereTheEdgeHasThem) {
  PollResult r = parse_healthz(
      200, R"({"status":"ok","requests_total":90,"responses_5xx_total":2,"cache_lookups_total":80,)"
           R"("cache_hits_total":60,"stream_sessions":7})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.counters.requests, 90);
  EXPECT_EQ(r.counters.errors_5xx, 2);
  EXPECT_EQ(r.counters.cache_lookups, 80);
  EXPECT_EQ(r.counters.cache_hits, 60);
  EXPECT_EQ(r.stream_sessions, 7);
  r = parse_healthz(200, R"({"status":"ok","requests_total":-5})");  // an older edge, or nonsense
  EXPECT_EQ(r.counters.requests, -1);
  EXPECT_EQ(r.counters.cache_lookups, -1);
  EXPECT_EQ(r.stream_sessions, -1);
}

}  // namespace
}  // namespace cdn::geo
