#include "tests/unit/live/segment_checks.h"

#include <algorithm>

#include "tests/unit/live/ts_builder.h"

namespace cdn::live::testing {

std::vector<Segment> segment_all(const std::string& ts, SegmenterConfig config, size_t chunk) {
  std::vector<Segment> out;
  Segmenter s(config, [&](Segment&& seg) { out.push_back(std::move(seg)); });
  if (chunk == 0) chunk = ts.size();
  for (size_t i = 0; i < ts.size(); i += chunk) s.feed(std::string_view(ts).substr(i, chunk));
  s.flush();
  return out;
}

void expect_well_formed(const Segment& s, bool video) {
  SCOPED_TRACE("segment " + std::to_string(s.sequence));
  ASSERT_EQ(s.data.size() % kTsPacketSize, 0u);
  auto probe = probe_segment(s.data);
  ASSERT_GE(probe.first_roles.size(), 3u);
  EXPECT_EQ(probe.first_roles[0], PacketRole::kPat);
  EXPECT_EQ(probe.first_roles[1], PacketRole::kPmt);
  EXPECT_EQ(probe.first_roles[2], video ? PacketRole::kVideo : PacketRole::kAudio);
  ASSERT_TRUE(probe.program);
  if (video) {
    EXPECT_TRUE(probe.first_pes_is_video);
    ASSERT_TRUE(probe.first_video_keyframe.has_value());
    EXPECT_TRUE(*probe.first_video_keyframe);
  }
  EXPECT_EQ(probe.cc_errors, 0u);
}

void expect_durations_match_timestamps(const std::vector<Segment>& segs) {
  std::vector<SegmentProbe> probes;
  for (auto& s : segs) probes.push_back(probe_segment(s.data));
  for (size_t i = 0; i < segs.size(); ++i) {
    SCOPED_TRACE("segment " + std::to_string(i));
    auto& pts = probes[i].video_pts;
    ASSERT_FALSE(pts.empty());
    const int64_t frame = probes[i].frame_ticks;
    ASSERT_GT(frame, 0);
    const int64_t first = *std::min_element(pts.begin(), pts.end());
    int64_t end;
    if (i + 1 < segs.size() && !segs[i + 1].discontinuity) {
      auto& next = probes[i + 1].video_pts;
      ASSERT_FALSE(next.empty());
      end = *std::min_element(next.begin(), next.end());
      // Probes unwrap each segment on its own; a wrap between them shows as -2^33.
      if (end < first) end += kTimestampWrap;
    } else {
      end = *std::max_element(pts.begin(), pts.end()) + frame;
    }
    EXPECT_NEAR(segs[i].duration_s, double(end - first) / kTimestampHz,
                double(frame) / kTimestampHz + 1e-9);
  }
}

}  // namespace cdn::live::testing
