// TrimAfterBurst: trims once after a burst of activity has gone quiet, never while busy, and not
// again until there was new activity.
#include "common/net/memory_trim.h"

#include <gtest/gtest.h>

namespace cdn::net {
namespace {

int g_trims = 0;
void count_trim() { ++g_trims; }

TEST(TrimAfterBurst, TrimsOnceAfterAQuietPeriodFollowingActivity) {
  g_trims = 0;
  TrimAfterBurst t(&count_trim);
  t.on_period();
  EXPECT_EQ(g_trims, 0);  // no activity yet
  t.note_activity();
  t.on_period();
  EXPECT_EQ(g_trims, 0);  // busy during this period
  t.note_activity();
  t.on_period();
  EXPECT_EQ(g_trims, 0);  // still busy
  t.on_period();
  EXPECT_EQ(g_trims, 1);  // first quiet period after the burst
  t.on_period();
  t.on_period();
  EXPECT_EQ(g_trims, 1);  // nothing new since
  t.note_activity();
  t.on_period();
  t.on_period();
  EXPECT_EQ(g_trims, 2);
}

}  // namespace
}  // namespace cdn::net
