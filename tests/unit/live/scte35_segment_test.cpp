// SCTE-35 end to end: hand-made splice sections injected into an ffmpeg stream on PID 0x1F0
// (declared in a hand-built PMT) must come out as cues on the segment that starts at the splice
// point, and as DATERANGE / CUE-OUT / CUE-IN tags in the live playlist.
#include <gtest/gtest.h>

#include "common/hls/datetime.h"
#include "common/hls/parser.h"
#include "origin-shield/origin/live/live_playlist.h"
#include "origin-shield/origin/live/psi.h"
#include "tests/unit/live/media_fixture.h"
#include "tests/unit/live/segment_checks.h"
#include "tests/unit/live/ts_builder.h"

namespace cdn::live {
namespace {

using namespace testing;

constexpr uint16_t kScte35Pid = 0x1F0;

struct Injection {
  int64_t after_pts;  // insert after the first video PES at or past this time
  std::string section;
};

// ffmpeg's layout: PMT on 0x1000, H.264 on 0x100, AAC on 0x101.
std::string inject(const std::string& ts, std::vector<Injection> cues) {
  const std::string pmt =
      make_pmt_section(1, 0x100, {{0x1B, 0x100}, {0x0F, 0x101}, {0x86, kScte35Pid}});
  std::string out;
  uint8_t pmt_cc = 0, scte_cc = 0;
  for (size_t i = 0; i + kTsPacketSize <= ts.size(); i += kTsPacketSize) {
    const auto* p = reinterpret_cast<const uint8_t*>(ts.data() + i);
    TsHeader h;
    decode_ts_header(p, h);
    if (h.pid == 0x1000) {
      packetize_section(0x1000, pmt, pmt_cc, out);
      continue;
    }
    out.append(ts, i, kTsPacketSize);
    if (h.pid != 0x100 || !h.payload_unit_start) continue;
    const uint8_t* pes = p + h.payload_offset;
    const uint64_t pts = (uint64_t(pes[9] >> 1 & 7) << 30) | (uint64_t(pes[10]) << 22) |
                         (uint64_t(pes[11] >> 1) << 15) | (uint64_t(pes[12]) << 7) | (pes[13] >> 1);
    while (!cues.empty() && int64_t(pts) >= cues.front().after_pts) {
      packetize_section(kScte35Pid, cues.front().section, scte_cc, out);
      cues.erase(cues.begin());
    }
  }
  return out;
}

int64_t first_video_pts(const std::string& ts) {
  for (auto& p : log_pes(ts).pes)
    if (p.kind == StreamKind::kVideo) return p.pts;
  return 0;
}

TEST(Scte35Segments, SpliceInsertLandsOnTheSegmentAtTheSplicePoint) {
  const std::string& path = clip_path(Clip::kH264Aac10s);
  if (path.empty()) GTEST_SKIP() << "no ffmpeg clip";
  const std::string ts = read_file(path);
  const int64_t p0 = first_video_pts(ts);
  const std::string out_section = make_splice_insert(1001, true, p0 + 4 * kTimestampHz,
                                                     4 * kTimestampHz);
  const std::string in_section = make_splice_insert(1002, false, p0 + 8 * kTimestampHz, {});
  std::string with_cues = inject(ts, {{p0 + 1 * kTimestampHz, out_section},
                                      {p0 + 7 * kTimestampHz, in_section}});
  auto segs = segment_all(with_cues);
  ASSERT_EQ(segs.size(), 5u);
  for (size_t i = 0; i < segs.size(); ++i) {
    expect_well_formed(segs[i]);
    EXPECT_EQ(segs[i].cues.size(), (i == 2 || i == 4) ? 1u : 0u) << i;
  }
  ASSERT_EQ(segs[2].cues.size(), 1u);
  EXPECT_EQ(segs[2].cues[0].direction, SpliceDirection::kOut);
  EXPECT_EQ(segs[2].cues[0].event_id, 1001u);
  EXPECT_EQ(segs[2].cues[0].pts, segs[2].first_pts);
  EXPECT_EQ(segs[2].cues[0].duration_s, 4.0);
  EXPECT_EQ(segs[2].cues[0].section, out_section);
  ASSERT_EQ(segs[4].cues.size(), 1u);
  EXPECT_EQ(segs[4].cues[0].direction, SpliceDirection::kIn);

  LivePlaylist pl({});
  int64_t now = 1795000000000;
  for (auto& s : segs) pl.append(s, now += 2000);
  auto parsed = hls::parse_media(pl.live_playlist());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const auto& ps = parsed->segments;
  ASSERT_EQ(ps.size(), 5u);
  ASSERT_EQ(ps[2].dateranges.size(), 1u);
  EXPECT_EQ(ps[2].dateranges[0].id, "splice-1001");
  EXPECT_EQ(ps[2].dateranges[0].planned_duration, 4.0);
  EXPECT_EQ(ps[2].dateranges[0].scte35_out.substr(0, 4), "0xFC");
  EXPECT_EQ(ps[2].dateranges[0].start_date, hls::format_iso8601_ms(1795000004000));
  EXPECT_TRUE(ps[2].cue_out);
  EXPECT_EQ(ps[2].cue_out_duration, 4.0);
  EXPECT_FALSE(ps[3].cue_out || ps[3].cue_in);
  EXPECT_TRUE(ps[4].cue_in);
  ASSERT_EQ(ps[4].dateranges.size(), 1u);
  EXPECT_EQ(ps[4].dateranges[0].id, "splice-1001") << "the IN closes the OUT's range";
  EXPECT_EQ(ps[4].dateranges[0].start_date, ps[2].dateranges[0].start_date);
  EXPECT_EQ(ps[4].dateranges[0].duration, 4.0);
  EXPECT_FALSE(ps[4].dateranges[0].scte35_in.empty());
}

TEST(Scte35Segments, SplicePointBeforeTargetForcesABoundary) {
  const std::string& path = clip_path(Clip::kH264Aac10s);
  if (path.empty()) GTEST_SKIP() << "no ffmpeg clip";
  const std::string ts = read_file(path);
  const int64_t p0 = first_video_pts(ts);
  std::string with_cues = inject(
      ts, {{p0, make_time_signal(77, uint64_t(p0 + 2 * kTimestampHz), 0x34, 30 * kTimestampHz)}});
  SegmenterConfig cfg;
  cfg.target_duration_s = 4;
  auto segs = segment_all(with_cues, cfg);
  ASSERT_EQ(segs.size(), 3u);  // 2 (cut for the splice) + 4 + 4
  EXPECT_NEAR(segs[0].duration_s, 2.0, 1e-9);
  EXPECT_NEAR(segs[1].duration_s, 4.0, 1e-9);
  ASSERT_EQ(segs[1].cues.size(), 1u);
  EXPECT_EQ(segs[1].cues[0].event_id, 77u);
  EXPECT_EQ(segs[1].cues[0].duration_s, 30.0);
  for (auto& s : segs) expect_well_formed(s);
}

TEST(Scte35Segments, CancelledAndImmediateSplices) {
  const std::string& path = clip_path(Clip::kH264Aac10s);
  if (path.empty()) GTEST_SKIP() << "no ffmpeg clip";
  const std::string ts = read_file(path);
  const int64_t p0 = first_video_pts(ts);
  std::string with_cues =
      inject(ts, {{p0, make_splice_insert(5, true, p0 + 6 * kTimestampHz, {})},
                  {p0 + kTimestampHz, make_splice_insert(5, true, {}, {}, /*cancel=*/true)},
                  {p0 + 5 * kTimestampHz, make_splice_insert(6, true, {}, {})}});
  auto segs = segment_all(with_cues);
  ASSERT_EQ(segs.size(), 5u);
  size_t total = 0;
  for (auto& s : segs) total += s.cues.size();
  EXPECT_EQ(total, 1u);
  // Immediate at 5 s: applied at the next keyframe boundary (6 s).
  ASSERT_EQ(segs[3].cues.size(), 1u);
  EXPECT_EQ(segs[3].cues[0].event_id, 6u);
}

}  // namespace
}  // namespace cdn::live
