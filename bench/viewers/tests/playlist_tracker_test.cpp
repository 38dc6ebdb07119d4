#include "bench/viewers/playlist_tracker.h"

#include <gtest/gtest.h>

#include <string>

namespace cdn::viewers {
namespace {

// A live playlist of `count` 2 s segments from `first`, as the origin writes it.
std::string live(uint64_t first, int count, std::string extra_head = "", std::string tail = "",
                 int discontinuity_at = -1) {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n" + extra_head +
                  "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first) + "\n";
  for (int i = 0; i < count; ++i) {
    if (int(first) + i == discontinuity_at) s += "#EXT-X-DISCONTINUITY\n";
    s += "#EXTINF:2.000,\n" + std::to_string(first + uint64_t(i)) + ".ts\n";
  }
  return s + tail;
}

TEST(PlaylistTracker, FirstCopyStartsAFewSegmentsFromTheLiveEdge) {
  PlaylistTracker t(3);
  auto up = t.apply(live(100, 6));
  ASSERT_TRUE(up) << up.error().message;
  ASSERT_EQ(up->segments.size(), 3u);
  EXPECT_EQ(up->segments[0].msn, 103u);
  EXPECT_EQ(up->segments[0].uri, "103.ts");
  EXPECT_DOUBLE_EQ(up->segments[0].duration, 2.0);
  EXPECT_EQ(up->segments[2].msn, 105u);
  EXPECT_TRUE(up->changed);
  EXPECT_EQ(t.next_msn(), 106u);
  EXPECT_EQ(t.target_duration(), 2);
}

TEST(PlaylistTracker, ShortPlaylistStartsAtItsFirstSegment) {
  PlaylistTracker t(3);
  auto up = t.apply(live(0, 2));
  ASSERT_TRUE(up);
  ASSERT_EQ(up->segments.size(), 2u);
  EXPECT_EQ(up->segments[0].msn, 0u);
}

TEST(PlaylistTracker, ReloadGivesOnlyNewSegments) {
  PlaylistTracker t(1);
  ASSERT_TRUE(t.apply(live(100, 6)));
  auto same = t.apply(live(100, 6));
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->segments.empty());
  EXPECT_FALSE(same->changed);
  // Unchanged: reload after half a target duration; changed: after one (RFC 8216 §6.3.4).
  EXPECT_EQ(t.reload_delay_ms(false), 1000);
  EXPECT_EQ(t.reload_delay_ms(true), 2000);
  auto next = t.apply(live(102, 6));  // window slid by two
  ASSERT_TRUE(next);
  ASSERT_EQ(next->segments.size(), 2u);
  EXPECT_EQ(next->segments[0].msn, 106u);
  EXPECT_EQ(next->segments[1].msn, 107u);
  EXPECT_TRUE(next->changed);
  EXPECT_EQ(next->missed, 0u);
}

TEST(PlaylistTracker, FallingBehindTheWindowCountsMissedSegments) {
  PlaylistTracker t(1);
  ASSERT_TRUE(t.apply(live(100, 6)));  // wants 106 next
  auto up = t.apply(live(110, 6));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->missed, 4u);  // 106..109 left the window unseen
  ASSERT_EQ(up->segments.size(), 6u);
  EXPECT_EQ(up->segments[0].msn, 110u);
}

TEST(PlaylistTracker, AStaleCopyBringsNothing) {
  PlaylistTracker t(1);
  ASSERT_TRUE(t.apply(live(100, 6)));
  ASSERT_TRUE(t.apply(live(102, 6)));
  auto up = t.apply(live(100, 6));  // an older copy (a cache behind another)
  ASSERT_TRUE(up);
  EXPECT_TRUE(up->went_back);
  EXPECT_TRUE(up->segments.empty());
  EXPECT_EQ(t.next_msn(), 108u);
}

TEST(PlaylistTracker, BlockingReloadAsksForTheNextSegment) {
  PlaylistTracker t(2);
  auto up =
      t.apply(live(50, 4, "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12.0,CAN-BLOCK-RELOAD=YES\n"));
  ASSERT_TRUE(up);
  EXPECT_TRUE(t.can_block_reload());
  EXPECT_EQ(t.reload_target("/live/a/720p/index.m3u8"), "/live/a/720p/index.m3u8?_HLS_msn=54");
  EXPECT_EQ(t.reload_target("/live/a/720p/index.m3u8?token=x"),
            "/live/a/720p/index.m3u8?token=x&_HLS_msn=54");
  EXPECT_EQ(t.reload_delay_ms(false), 0);  // the server holds the request
}

TEST(PlaylistTracker, WithoutServerControlItPolls) {
  PlaylistTracker t(2);
  ASSERT_TRUE(t.apply(live(50, 4)));
  EXPECT_FALSE(t.can_block_reload());
  EXPECT_EQ(t.reload_target("/a/index.m3u8?token=x"), "/a/index.m3u8?token=x");
  EXPECT_FALSE(offers_blocking_reload("#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=NO\n"));
  EXPECT_FALSE(offers_blocking_reload("#EXTM3U\n#X-EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n"));
  EXPECT_TRUE(offers_blocking_reload("#EXTM3U\r\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\r\n"));
}

TEST(PlaylistTracker, DiscontinuityIsCarriedOnTheSegment) {
  PlaylistTracker t(1);
  ASSERT_TRUE(t.apply(live(10, 3)));
  auto up = t.apply(live(10, 5, "", "", 13));
  ASSERT_TRUE(up);
  ASSERT_EQ(up->segments.size(), 2u);
  EXPECT_TRUE(up->segments[0].discontinuity);
  EXPECT_FALSE(up->segments[1].discontinuity);
}

TEST(PlaylistTracker, EndlistEndsTheStream) {
  PlaylistTracker t(1);
  ASSERT_TRUE(t.apply(live(10, 3)));
  EXPECT_FALSE(t.ended());
  auto up = t.apply(live(10, 4, "", "#EXT-X-ENDLIST\n"));
  ASSERT_TRUE(up);
  EXPECT_TRUE(up->ended);
  EXPECT_TRUE(up->changed);
  ASSERT_EQ(up->segments.size(), 1u);
  EXPECT_EQ(up->segments[0].msn, 13u);
  EXPECT_TRUE(t.ended());
}

TEST(PlaylistTracker, VodPlaysFromItsStart) {
  PlaylistTracker t(3);
  auto up = t.apply(live(0, 5, "#EXT-X-PLAYLIST-TYPE:VOD\n", "#EXT-X-ENDLIST\n"));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->segments.size(), 5u);
  EXPECT_TRUE(up->ended);
}

TEST(PlaylistTracker, BadPlaylistIsAnError) {
  PlaylistTracker t(3);
  EXPECT_FALSE(t.apply("#EXTM3U\n#EXTINF:2,\n"));  // no target duration
  EXPECT_FALSE(t.apply("<html>"));
  EXPECT_FALSE(t.seen());
}

}  // namespace
}  // namespace cdn::viewers
