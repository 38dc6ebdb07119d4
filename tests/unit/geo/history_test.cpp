// The poller's per-edge history behind /history and the rates in /state: 10 s buckets, an hour
// at most, counter deltas across restarts, rates only where something was measured.
#include <gtest/gtest.h>

#include "geo/edge_history.h"

namespace cdn::geo {
namespace {

EdgeStatus up() {
  EdgeStatus s;
  s.health = EdgeStatus::Health::Up;
  return s;
}

PollResult answer(int64_t requests, int64_t lookups, int64_t hits) {
  PollResult r;
  r.ok = true;
  r.connections = 10;
  r.egress_bytes_per_s = 1000;
  r.counters.requests = requests;
  r.counters.errors_5xx = 0;
  r.counters.cache_lookups = lookups;
  r.counters.cache_hits = hits;
  return r;
}

TEST(EdgeHistory, BucketsPollsByTenSecondsAndKeepsOneHour) {
  EdgeHistory h;
  const int64_t t0 = 1'700'000'000'000;  // a multiple of 10 s
  for (int i = 0; i < 400 * 10; ++i) h.record(t0 + i * 1000, up(), answer(i, 0, 0));
  std::string j;
  h.append_json(j);
  // 4000 polls a second apart: 400 buckets made, the newest 360 kept.
  size_t rows = 0;
  for (size_t p = j.find("[1"); p != std::string::npos; p = j.find("[1", p + 1)) ++rows;
  EXPECT_EQ(rows, EdgeHistory::kBuckets);
  EXPECT_NE(j.find("[" + std::to_string(t0 + 40 * 10'000) + ",1,10.0,8000,null,1.00,0.00,null]"),
            std::string::npos)
      << j.substr(0, 200);
}

TEST(EdgeHistory, RatesComeFromCounterDeltasAndARestartCountsFromZero) {
  EdgeHistory h;
  const int64_t t0 = 1'700'000'000'000;
  h.record(t0, up(), answer(100, 50, 40));  // the first answer only sets the baseline
  EXPECT_LT(h.recent(t0, 30'000).hit_ratio, 0);
  h.record(t0 + 1000, up(), answer(110, 60, 45));  // +10 requests, +10 lookups, +5 hits
  h.record(t0 + 2000, up(), answer(4, 4, 4));      // restarted: 4 new of each
  RecentRates r = h.recent(t0 + 2000, 30'000);
  EXPECT_DOUBLE_EQ(r.hit_ratio, 9.0 / 14.0);
  EXPECT_DOUBLE_EQ(r.requests_per_s, 14.0 / 2.0);
  EXPECT_DOUBLE_EQ(r.errors_5xx_per_s, 0);
  // Outside the window, nothing is measured.
  EXPECT_LT(h.recent(t0 + 120'000, 30'000).requests_per_s, 0);
}

TEST(EdgeHistory, AFailedPollCountsAgainstHealthButTakesNoDelta) {
  EdgeHistory h;
  const int64_t t0 = 1'700'000'000'000;
  h.record(t0, up(), answer(0, 0, 0));
  EdgeStatus down;
  down.health = EdgeStatus::Health::Down;
  h.record(t0 + 1000, down, PollResult{});
  std::string j;
  h.append_json(j);
  EXPECT_EQ(j, "[[" + std::to_string(t0) + ",0.5,10.0,8000,null,null,null,null]]");
}

TEST(FleetHistory, KeepsOnlyTheEdgesStillConfigured) {
  FleetHistory f;
  f.record("fra-1", 1'700'000'000'000, up(), answer(0, 0, 0));
  f.record("ams-1", 1'700'000'000'000, up(), answer(0, 0, 0));
  f.retain({"ams-1"});
  std::string j = f.json(1'700'000'001'000);
  EXPECT_EQ(j.find("fra-1"), std::string::npos);
  EXPECT_NE(j.find("\"ams-1\":[["), std::string::npos) << j;
}

}  // namespace
}  // namespace cdn::geo
