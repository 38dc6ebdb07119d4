#include "bench/viewers/playback_buffer.h"

#include <gtest/gtest.h>

namespace cdn::viewers {
namespace {

TEST(PlaybackBuffer, NothingBeforeTheFirstSegment) {
  PlaybackBuffer b;
  EXPECT_FALSE(b.started());
  EXPECT_EQ(b.played(10), 0);
  EXPECT_EQ(b.stalled(10), 0);
  EXPECT_FALSE(b.dry(10));
}

TEST(PlaybackBuffer, SegmentsInTimeNeverStall) {
  PlaybackBuffer b;
  b.on_segment(1.0, 2.0);  // plays 1..3
  b.on_segment(2.5, 2.0);  // arrives with 0.5 s left: plays 3..5
  b.on_segment(4.9, 2.0);  // plays 5..7
  EXPECT_EQ(b.stalls(), 0u);
  EXPECT_DOUBLE_EQ(b.stalled(6.0), 0);
  EXPECT_DOUBLE_EQ(b.played(6.0), 5.0);
  EXPECT_DOUBLE_EQ(b.buffered(6.0), 1.0);
  EXPECT_DOUBLE_EQ(b.start_time(), 1.0);
}

TEST(PlaybackBuffer, LateSegmentRecordsTheStallFromWhenTheBufferRanDry) {
  PlaybackBuffer b;
  b.on_segment(0.0, 2.0);  // runs dry at 2.0
  b.on_segment(3.5, 2.0);  // 1.5 s stall, then plays 3.5..5.5
  EXPECT_EQ(b.stalls(), 1u);
  EXPECT_DOUBLE_EQ(b.stalled(4.0), 1.5);
  EXPECT_DOUBLE_EQ(b.played(5.5), 4.0);
  b.on_segment(5.5, 2.0);  // exactly at the end of the buffer: no stall
  EXPECT_EQ(b.stalls(), 1u);
}

TEST(PlaybackBuffer, AnOngoingStallCountsWithoutBeingAStallYet) {
  PlaybackBuffer b;
  b.on_segment(0.0, 2.0);
  EXPECT_TRUE(b.dry(3.0));
  EXPECT_DOUBLE_EQ(b.stalled(3.0), 1.0);  // a viewer leaving now did wait a second
  EXPECT_EQ(b.stalls(), 0u);              // but no segment ended it
  EXPECT_DOUBLE_EQ(b.played(3.0), 2.0);   // never more than what arrived
}

TEST(PlaybackBuffer, RebufferRatioFromItsParts) {
  PlaybackBuffer b;
  double t = 0;
  for (int i = 0; i < 10; ++i) {
    b.on_segment(t, 2.0);
    t += i == 4 ? 2.5 : 2.0;  // the sixth segment is 0.5 s late
  }
  EXPECT_EQ(b.stalls(), 1u);
  double end = b.runs_out();
  EXPECT_DOUBLE_EQ(b.played(end), 20.0);
  EXPECT_DOUBLE_EQ(b.stalled(end), 0.5);
}

}  // namespace
}  // namespace cdn::viewers
