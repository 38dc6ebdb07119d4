#include "origin-shield/origin/live/segmenter.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/live/media_fixture.h"
#include "tests/unit/live/segment_checks.h"
#include "tests/unit/live/ts_builder.h"

namespace cdn::live {
namespace {

using namespace testing;

std::string clip(Clip c) {
  const std::string& path = clip_path(c);
  if (path.empty()) return "";
  return read_file(path);
}

#define REQUIRE_CLIP(var, which)                                  \
  std::string var = clip(which);                                  \
  if (var.empty()) GTEST_SKIP() << "ffmpeg could not make the clip"

TEST(Segmenter, TwoSecondGopMakesTwoSecondSegments) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  SegmenterConfig cfg;
  cfg.target_duration_s = 2;
  cfg.first_sequence = 100;
  auto segs = segment_all(ts, cfg);
  ASSERT_EQ(segs.size(), 5u);
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].sequence, 100 + i);
    EXPECT_NEAR(segs[i].duration_s, 2.0, 1e-9) << i;
    EXPECT_FALSE(segs[i].discontinuity);
    EXPECT_TRUE(segs[i].starts_with_keyframe);
    expect_well_formed(segs[i]);
  }
  expect_durations_match_timestamps(segs);
}

TEST(Segmenter, TargetBetweenKeyframesCutsAtNextKeyframe) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  SegmenterConfig cfg;
  cfg.target_duration_s = 3;
  auto segs = segment_all(ts, cfg);
  ASSERT_EQ(segs.size(), 3u);  // 4 + 4 + 2
  EXPECT_NEAR(segs[0].duration_s, 4.0, 1e-9);
  EXPECT_NEAR(segs[1].duration_s, 4.0, 1e-9);
  expect_durations_match_timestamps(segs);
}

TEST(Segmenter, ReportsMediaInfoForTheMasterPlaylist) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  Segmenter s({}, [](Segment&&) {});
  s.feed(ts);
  s.flush();
  const MediaInfo& m = s.media();
  EXPECT_EQ(m.width, 320);
  EXPECT_EQ(m.height, 240);
  EXPECT_EQ(m.video_codec_string.substr(0, 5), "avc1.");
  EXPECT_EQ(m.audio_codec_string, "mp4a.40.2");
  EXPECT_EQ(m.sample_rate, 48000);
  EXPECT_DOUBLE_EQ(m.frame_rate(), 25.0);
  // ffprobe agrees on profile and level.
  bool ok = false;
  auto out = run("ffprobe -v error -select_streams v:0 -show_entries stream=profile,level -of "
                 "csv=p=0 " + clip_path(Clip::kH264Aac10s), &ok);
  ASSERT_TRUE(ok);
  const int level = std::stoi(out.substr(out.find(',') + 1));
  char expect_level[8];
  std::snprintf(expect_level, sizeof expect_level, "%02x", level);
  EXPECT_EQ(m.video_codec_string.substr(9, 2), expect_level) << m.video_codec_string << " " << out;
  EXPECT_EQ(out.substr(0, out.find(',')), "High");
  EXPECT_EQ(m.video_codec_string.substr(5, 2), "64");
  EXPECT_EQ(m.codecs(), m.video_codec_string + ",mp4a.40.2");
  EXPECT_EQ(s.demux_stats().cc_errors, 0u);
  EXPECT_EQ(s.demux_stats().crc_errors, 0u);
  EXPECT_EQ(s.stats().segments, 5u);
  EXPECT_EQ(s.stats().segments_without_sps, 0u);
  EXPECT_DOUBLE_EQ(s.stats().max_duration_s, 2.0);
}

TEST(Segmenter, FfprobeSeesAKeyframeFirstInEverySegment) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  auto segs = segment_all(ts);
  ASSERT_GE(segs.size(), 3u);
  for (size_t i : {size_t(1), segs.size() - 1}) {
    std::string path = temp_dir() + "/seg" + std::to_string(i) + ".ts";
    write_file(path, segs[i].data);
    bool ok = false;
    auto frames = run("ffprobe -v error -select_streams v:0 -show_entries frame=key_frame,pict_type "
                      "-read_intervals %+#1 -of csv=p=0 " + path, &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(frames.substr(0, 3), "1,I") << i << ": " << frames;
    auto packets = run("ffprobe -v error -show_entries packet=codec_type,flags -of csv=p=0 " + path,
                       &ok);
    ASSERT_TRUE(ok);
    auto first_video = packets.find("video");
    ASSERT_NE(first_video, std::string::npos);
    EXPECT_EQ(packets.substr(first_video, 7), "video,K") << packets.substr(0, 80);
    auto streams = run("ffprobe -v error -show_entries stream=codec_type -of csv=p=0 " + path, &ok);
    EXPECT_NE(streams.find("video"), std::string::npos);
    EXPECT_NE(streams.find("audio"), std::string::npos);
  }
}

TEST(Segmenter, ChunkingDoesNotChangeOutput) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  auto whole = segment_all(ts);
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    std::vector<Segment> got;
    Segmenter s({}, [&](Segment&& seg) { got.push_back(std::move(seg)); });
    size_t pos = 0;
    while (pos < ts.size()) {
      size_t n = round == 0 ? 1 + rng() % 7 : 1 + rng() % 9000;
      n = std::min(n, ts.size() - pos);
      s.feed(std::string_view(ts).substr(pos, n));
      pos += n;
    }
    s.flush();
    ASSERT_EQ(got.size(), whole.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].data, whole[i].data) << round << "/" << i;
      EXPECT_EQ(got[i].duration_s, whole[i].duration_s);
      EXPECT_EQ(got[i].first_pts, whole[i].first_pts);
    }
  }
}

TEST(Segmenter, EncoderRestartIsADiscontinuity) {
  REQUIRE_CLIP(a, Clip::kH264Aac10s);
  REQUIRE_CLIP(b, Clip::kH264Aac4sB);
  auto segs = segment_all(a + b);
  ASSERT_EQ(segs.size(), 7u);
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].sequence, i);
    EXPECT_EQ(segs[i].discontinuity, i == 5) << i;
    expect_well_formed(segs[i]);
  }
  EXPECT_NEAR(segs[4].duration_s, 2.0, 0.041);
  EXPECT_LT(segs[5].first_pts, segs[4].first_pts) << "second encoder starts its clock again";
  expect_durations_match_timestamps(segs);
}

TEST(Segmenter, ForwardJumpIsADiscontinuity) {
  REQUIRE_CLIP(a, Clip::kH264Aac10s);
  std::vector<Segment> segs;
  Segmenter s({}, [&](Segment&& seg) { segs.push_back(std::move(seg)); });
  s.feed(a);
  // Same stream again 1000 s later: every timestamp shifted forward.
  REQUIRE_CLIP(wrap, Clip::kH264Wrap8s);
  s.feed(wrap);
  s.flush();
  ASSERT_EQ(segs.size(), 9u);
  for (size_t i = 0; i < segs.size(); ++i) EXPECT_EQ(segs[i].discontinuity, i == 5) << i;
  EXPECT_EQ(s.stats().discontinuities, 1u);
}

TEST(Segmenter, PtsWrapIsNotADiscontinuity) {
  REQUIRE_CLIP(ts, Clip::kH264Wrap8s);
  auto segs = segment_all(ts);
  ASSERT_EQ(segs.size(), 4u);
  EXPECT_LT(segs.front().first_pts, kTimestampWrap);
  EXPECT_GT(segs.back().first_pts, kTimestampWrap) << "the stream must actually wrap";
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_FALSE(segs[i].discontinuity) << i;
    EXPECT_NEAR(segs[i].duration_s, 2.0, 1e-9) << i;
    if (i) {
      EXPECT_EQ(segs[i].first_pts, segs[i - 1].first_pts + 2 * kTimestampHz);
    }
    expect_well_formed(segs[i]);
  }
  expect_durations_match_timestamps(segs);
}

TEST(Segmenter, Hevc) {
  REQUIRE_CLIP(ts, Clip::kHevcAac4s);
  std::vector<Segment> segs;
  Segmenter s({}, [&](Segment&& seg) { segs.push_back(std::move(seg)); });
  s.feed(ts);
  s.flush();
  ASSERT_EQ(segs.size(), 2u);
  for (auto& seg : segs) {
    expect_well_formed(seg);
    EXPECT_NEAR(seg.duration_s, 2.0, 1e-9);
  }
  EXPECT_EQ(s.media().video_codec, Codec::kHevc);
  EXPECT_EQ(s.media().width, 320);
  EXPECT_EQ(s.media().height, 240);
  EXPECT_EQ(s.media().video_codec_string.substr(0, 10), "hvc1.1.6.L") << s.media().video_codec_string;
  std::string path = temp_dir() + "/hevc1.ts";
  write_file(path, segs[1].data);
  bool ok = false;
  auto frames = run("ffprobe -v error -select_streams v:0 -show_entries frame=key_frame "
                    "-read_intervals %+#1 -of csv=p=0 " + path, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(frames.substr(0, 1), "1");
}

TEST(Segmenter, AudioOnlyCutsByTime) {
  REQUIRE_CLIP(ts, Clip::kAacOnly6s);
  std::vector<Segment> segs;
  Segmenter s({}, [&](Segment&& seg) { segs.push_back(std::move(seg)); });
  s.feed(ts);
  s.flush();
  ASSERT_GE(segs.size(), 3u);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    EXPECT_GE(segs[i].duration_s, 2.0 - 0.02);
    EXPECT_LE(segs[i].duration_s, 2.25);
    expect_well_formed(segs[i], false);
  }
  EXPECT_EQ(s.media().audio_codec_string, "mp4a.40.2");
  EXPECT_EQ(s.media().sample_rate, 48000);
  EXPECT_EQ(s.media().codecs(), "mp4a.40.2");
}

TEST(Segmenter, TruncationAndGarbageKeepEarlierSegments) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  auto clean = segment_all(ts);
  const size_t cut = ts.size() * 6 / 10 + 77;  // mid-packet
  std::vector<Segment> got;
  Segmenter s({}, [&](Segment&& seg) { got.push_back(std::move(seg)); });
  s.feed(std::string_view(ts).substr(0, cut));
  const size_t before = got.size();
  ASSERT_GE(before, 2u);
  std::mt19937 rng(1);
  std::string garbage(50000, '\0');
  for (auto& c : garbage) c = char(rng());
  s.feed(garbage);
  s.feed(std::string_view(ts).substr(cut, ts.size() / 5));
  s.flush();
  for (size_t i = 0; i < before; ++i) EXPECT_EQ(got[i].data, clean[i].data) << i;
  for (auto& seg : got) EXPECT_EQ(seg.data.size() % kTsPacketSize, 0u);
  for (size_t i = before + 1; i < got.size(); ++i)
    if (got[i].starts_with_keyframe) expect_well_formed(got[i]);
  EXPECT_GT(s.demux_stats().sync_losses, 0u);

  // Pure noise and a lone partial packet: nothing to emit, nothing to crash on.
  std::vector<Segment> none;
  Segmenter n({}, [&](Segment&& seg) { none.push_back(std::move(seg)); });
  n.feed(garbage);
  n.feed(std::string_view(ts).substr(0, 100));
  n.flush();
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace cdn::live
