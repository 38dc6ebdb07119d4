#include "bench/viewers/cost.h"

#include <gtest/gtest.h>

namespace cdn::viewers {
namespace {

SecondRow row(uint64_t t, uint64_t playing, uint64_t joins, uint64_t segments, double edge_cpu_s,
              double sim_cpu_s = -1) {
  SecondRow r;
  r.t = t;
  r.playing = playing;
  r.tally.joins = joins;
  r.tally.segments = segments;
  r.tally.playlists = segments;
  r.edge_cpu_s = edge_cpu_s;
  r.sim_cpu_s = sim_cpu_s;
  return r;
}

TEST(Costs, FlashCrowdEndsWhenEveryViewerPlaysAndSteadyStartsAfterTheSettling) {
  std::vector<SecondRow> rows = {
      row(1, 0, 600, 0, 0.5, 0.4),      row(2, 500, 400, 1500, 0.7, 0.6),
      row(3, 1000, 0, 1500, 0.3, 0.2),  // every viewer plays: the flash crowd ends here
      row(4, 1000, 0, 500, 0.1, 0.05),  // settling
      row(5, 1000, 0, 500, 0.05, 0.02), row(6, 1000, 0, 500, 0.05, 0.03),
      row(7, 1000, 0, 200, 0.9, 0.9),  // the viewers leave: not steady
  };
  Costs c = split_costs(rows, 1000, 1);
  ASSERT_TRUE(c.flash);
  EXPECT_EQ(c.flash->first_t, 1u);
  EXPECT_EQ(c.flash->last_t, 3u);
  EXPECT_EQ(c.flash->joins, 1000u);
  EXPECT_EQ(c.flash->segments, 3000u);
  EXPECT_NEAR(c.flash->edge_cpu_s, 1.5, 1e-9);
  EXPECT_NEAR(c.flash->sim_cpu_s, 1.2, 1e-9);
  ASSERT_TRUE(c.steady);
  EXPECT_EQ(c.steady->first_t, 5u);
  EXPECT_EQ(c.steady->last_t, 6u);
  EXPECT_EQ(c.steady->segments, 1000u);
  EXPECT_NEAR(c.steady->edge_cpu_s, 0.1, 1e-9);

  auto j = costs_json(c);
  const auto* flash = j.find("flash_crowd");
  ASSERT_NE(flash, nullptr);
  EXPECT_NEAR(flash->find("edge_cpu_ms_per_join")->as_number()->d, 1.5, 1e-9);
  EXPECT_NEAR(flash->find("simulator_cpu_ms_per_join")->as_number()->d, 1.2, 1e-9);
  EXPECT_NEAR(j.find("steady")->find("edge_cpu_us_per_segment")->as_number()->d, 100, 1e-6);
  // 1.5 s less 3000 segments at 100 µs = 1.2 s for 1000 joins; the simulator: 1.2 s less 3000 at 50
  // µs.
  EXPECT_NEAR(flash->find("edge_cpu_ms_per_join_less_segments")->as_number()->d, 1.2, 1e-9);
  EXPECT_NEAR(flash->find("simulator_cpu_ms_per_join_less_segments")->as_number()->d, 1.05, 1e-9);
  EXPECT_EQ(j.find("steady")->find("edge_cpu_ms_per_join"), nullptr);
}

TEST(Costs, WithoutEveryViewerPlayingTheFlashCrowdIsTheJoiningSeconds) {
  std::vector<SecondRow> rows = {row(1, 0, 50, 0, 0.1), row(2, 40, 50, 100, 0.2),
                                 row(3, 90, 0, 100, 0.1), row(4, 90, 0, 100, 0.1)};
  Costs c = split_costs(rows, 100, 0);
  ASSERT_TRUE(c.flash);
  EXPECT_EQ(c.flash->last_t, 2u);
  EXPECT_EQ(c.flash->joins, 100u);
  ASSERT_TRUE(c.steady);
  EXPECT_EQ(c.steady->first_t, 3u);
  EXPECT_EQ(c.steady->last_t, 3u);
  EXPECT_FALSE(c.flash->sim_measured);
  EXPECT_EQ(costs_json(c).find("flash_crowd")->find("simulator_cpu_ms_per_join"), nullptr);
}

TEST(Costs, RowsWithoutAnEdgeSampleAreLeftOutAndNoJoinsMeansNoWindows) {
  std::vector<SecondRow> rows = {row(1, 0, 10, 0, -1), row(2, 10, 0, 10, 0.2),
                                 row(3, 10, 0, 10, 0.2)};
  Costs c = split_costs(rows, 10, 0);
  ASSERT_TRUE(c.flash);
  EXPECT_EQ(c.flash->first_t, 2u);  // second 1 had no edge sample
  EXPECT_EQ(c.flash->joins, 0u);
  EXPECT_EQ(costs_json(c).find("flash_crowd")->find("edge_cpu_ms_per_join")->as_number()->d, 0);
  EXPECT_FALSE(split_costs({row(1, 0, 0, 5, 0.1)}, 10).flash);
}

}  // namespace
}  // namespace cdn::viewers
