#include "origin-shield/origin/live/live_playlist.h"

#include <gtest/gtest.h>

#include "common/hls/parser.h"
#include "origin-shield/origin/live/master_builder.h"

namespace cdn::live {
namespace {

constexpr int64_t kT0 = 1795000000000;

Segment seg(double duration, bool disc = false, size_t bytes = 500000) {
  Segment s;
  s.duration_s = duration;
  s.discontinuity = disc;
  s.data.assign(bytes, '\0');
  return s;
}

hls::MediaPlaylist parse(const std::string& text) {
  auto r = hls::parse_media(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << text;
  return r.ok() ? *r : hls::MediaPlaylist{};
}

TEST(LivePlaylist, SlidingWindowAndSequences) {
  LivePlaylistConfig cfg;
  cfg.window_segments = 3;  // raised to the minimum of 6
  cfg.uri_prefix = "seg-";
  LivePlaylist pl(cfg);
  int64_t now = kT0;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(pl.append(seg(2.0), now += 2000), uint64_t(i));
  auto p = parse(pl.live_playlist());
  EXPECT_EQ(p.target_duration, 2);
  EXPECT_EQ(p.media_sequence, 4u);
  ASSERT_EQ(p.segments.size(), 6u);
  EXPECT_EQ(p.segments[0].uri, "seg-4.ts");
  EXPECT_EQ(p.segments[5].uri, "seg-9.ts");
  EXPECT_FALSE(p.endlist);
  // PDT is continuous: each segment starts where the previous one ended.
  for (size_t i = 1; i < p.segments.size(); ++i)
    EXPECT_EQ(*p.segments[i].program_date_time_ms, *p.segments[i - 1].program_date_time_ms + 2000);
  EXPECT_EQ(*p.segments[5].program_date_time_ms, now - 2000);
}

TEST(LivePlaylist, WindowCoversThreeTargetDurations) {
  LivePlaylist pl({});
  int64_t now = kT0;
  pl.append(seg(6.0), now += 6000);  // GOP-forced: TARGETDURATION becomes 6
  for (int i = 0; i < 20; ++i) pl.append(seg(1.0), now += 1000);
  auto p = parse(pl.live_playlist());
  EXPECT_EQ(p.target_duration, 6);
  double total = 0;
  for (auto& s : p.segments) total += s.duration;
  EXPECT_GE(total, 18.0);
  EXPECT_EQ(p.segments.size(), 18u);
}

TEST(LivePlaylist, TargetDurationIsFixedFromTheFirstSegment) {
  LivePlaylistConfig cfg;
  cfg.target_duration_s = 2;
  LivePlaylist pl(cfg);
  pl.append(seg(2.0), kT0);
  pl.append(seg(3.6), kT0 + 4000);
  EXPECT_EQ(pl.target_duration(), 2);
  EXPECT_EQ(pl.target_overruns(), 1u);
  EXPECT_EQ(parse(pl.live_playlist()).target_duration, 2);
}

TEST(LivePlaylist, DiscontinuitySequenceCountsTagsThatLeft) {
  LivePlaylist pl({});
  int64_t now = kT0;
  for (int i = 0; i < 12; ++i) pl.append(seg(2.0, i == 2 || i == 8), now += 2000);
  auto p = parse(pl.live_playlist());
  EXPECT_EQ(p.media_sequence, 6u);
  EXPECT_EQ(p.discontinuity_sequence, 1u);
  EXPECT_TRUE(p.segments[2].discontinuity);
  pl.mark_discontinuity();
  pl.append(seg(2.0), now += 2000);
  EXPECT_TRUE(parse(pl.live_playlist()).segments.back().discontinuity);
}

TEST(LivePlaylist, EndListAndEventPlaylist) {
  LivePlaylistConfig cfg;
  cfg.dvr_window_s = 3600;
  LivePlaylist pl(cfg);
  int64_t now = kT0;
  for (int i = 0; i < 10; ++i) pl.append(seg(2.0), now += 2000);
  auto ev = parse(pl.event_playlist());
  EXPECT_EQ(ev.type, hls::PlaylistType::kEvent);
  EXPECT_EQ(ev.media_sequence, 0u);
  EXPECT_EQ(ev.segments.size(), 10u);
  pl.end();
  EXPECT_TRUE(parse(pl.live_playlist()).endlist);
  ev = parse(pl.event_playlist());
  EXPECT_TRUE(ev.endlist);
  EXPECT_EQ(ev.type, hls::PlaylistType::kVod);
  // The encoder comes back: the playlist reopens with a discontinuity.
  pl.append(seg(2.0), now += 2000);
  auto live = parse(pl.live_playlist());
  EXPECT_FALSE(live.endlist);
  EXPECT_TRUE(live.segments.back().discontinuity);
}

TEST(LivePlaylist, DvrWindowTrimsAndExpiresAfterPlaylistDuration) {
  LivePlaylistConfig cfg;
  cfg.dvr_window_s = 20;
  LivePlaylist pl(cfg);
  int64_t now = kT0;
  for (int i = 0; i < 15; ++i) pl.append(seg(2.0), now += 2000);
  auto ev = parse(pl.event_playlist());
  EXPECT_EQ(ev.type, hls::PlaylistType::kNone) << "history was trimmed: not an EVENT any more";
  EXPECT_EQ(ev.segments.size(), 10u);
  EXPECT_EQ(ev.media_sequence, 5u);
  EXPECT_TRUE(pl.take_expired(now).empty());
  // Segment 0 left at append #10: stays for its 2 s plus the 22 s playlist that held it.
  auto expired = pl.take_expired(kT0 + 11 * 2000 + 24000);
  ASSERT_FALSE(expired.empty());
  EXPECT_EQ(expired.front(), 0u);
  EXPECT_TRUE(pl.take_expired(kT0 + 11 * 2000 + 24000).empty()) << "taken once";
}

TEST(LivePlaylist, StateRoundTripKeepsSequenceAndMarksResume) {
  LivePlaylistConfig cfg;
  cfg.dvr_window_s = 30;
  LivePlaylist pl(cfg);
  int64_t now = kT0;
  for (int i = 0; i < 25; ++i) {
    Segment s = seg(2.0, i == 21, 400000 + i);
    if (i == 23) {
      Cue c;
      c.direction = SpliceDirection::kOut;
      c.event_id = 9;
      c.duration_s = 30;
      c.section = "\xFC\x30";
      s.cues.push_back(c);
    }
    pl.append(s, now += 2000);
  }
  const std::string state = pl.serialize();
  auto back = LivePlaylist::deserialize(state, cfg);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << state;
  EXPECT_EQ(back->next_sequence(), 25u);
  EXPECT_EQ(back->live_playlist(), pl.live_playlist());
  EXPECT_EQ(back->event_playlist(), pl.event_playlist());
  EXPECT_EQ(back->peak_bandwidth(), pl.peak_bandwidth());
  std::string resumed = state;
  resumed.replace(resumed.find("flags 0 0 1"), 11, "flags 0 1 1");  // next one is a discontinuity
  EXPECT_EQ(back->serialize(), resumed);
  // After a restart the sequence goes on and the new segment is a discontinuity.
  EXPECT_EQ(back->append(seg(2.0), now + 60000), 25u);
  auto p = parse(back->live_playlist());
  EXPECT_TRUE(p.segments.back().discontinuity);
  EXPECT_EQ(p.media_sequence + p.segments.size(), 26u);

  EXPECT_FALSE(LivePlaylist::deserialize("", cfg).ok());
  EXPECT_FALSE(LivePlaylist::deserialize("cdn-live-playlist 1\nnext x\nplaylist\n", cfg).ok());
  std::string broken = state;
  broken.replace(broken.find("next 25"), 7, "next 99");
  EXPECT_FALSE(LivePlaylist::deserialize(broken, cfg).ok());
  for (size_t n = 0; n < state.size(); n += 7) LivePlaylist::deserialize(state.substr(0, n), cfg);
}

TEST(LivePlaylist, BreakWithPlannedDurationClosesItself) {
  LivePlaylistConfig cfg;
  cfg.window_segments = 10;
  LivePlaylist pl(cfg);
  int64_t now = kT0;
  for (int i = 0; i < 8; ++i) {
    Segment s = seg(2.0);
    if (i == 1) {
      Cue c;
      c.event_id = 3;
      c.duration_s = 4;
      s.cues.push_back(c);
    }
    pl.append(s, now += 2000);
  }
  auto p = parse(pl.live_playlist());
  ASSERT_EQ(p.segments.size(), 8u);
  EXPECT_TRUE(p.segments[1].cue_out);
  EXPECT_FALSE(p.segments[2].cue_in);
  EXPECT_TRUE(p.segments[3].cue_in);
  EXPECT_FALSE(p.segments[4].cue_in);
}

TEST(MasterBuilder, MeasuredBandwidthResolutionCodecs) {
  LivePlaylist pl({});
  int64_t now = kT0;
  pl.append(seg(2.0, false, 500000), now += 2000);
  pl.append(seg(2.0, false, 750000), now += 2000);
  EXPECT_EQ(pl.peak_bandwidth(), 3000000u);
  EXPECT_EQ(pl.average_bandwidth(), 2500000u);
  RenditionSummary hi;
  hi.uri = "720p/index.m3u8";
  hi.peak_bandwidth = pl.peak_bandwidth();
  hi.average_bandwidth = pl.average_bandwidth();
  hi.media.width = 1280;
  hi.media.height = 720;
  hi.media.video_codec_string = "avc1.64001f";
  hi.media.audio_codec_string = "mp4a.40.2";
  hi.media.frame_ticks = 3003;
  RenditionSummary audio;
  audio.uri = "audio/index.m3u8";
  audio.peak_bandwidth = 70000;
  audio.media.audio_codec_string = "mp4a.40.2";
  RenditionSummary unmeasured;
  unmeasured.uri = "new/index.m3u8";
  auto m = build_master({hi, audio, unmeasured});
  ASSERT_EQ(m.variants.size(), 2u);
  EXPECT_EQ(m.variants[0].bandwidth, 3000000u);
  EXPECT_EQ(m.variants[0].average_bandwidth, 2500000u);
  EXPECT_EQ(m.variants[0].resolution, (hls::Resolution{1280, 720}));
  EXPECT_EQ(m.variants[0].codecs, "avc1.64001f,mp4a.40.2");
  EXPECT_EQ(m.variants[0].frame_rate, 29.97);
  EXPECT_FALSE(m.variants[1].resolution);
  EXPECT_EQ(m.variants[1].codecs, "mp4a.40.2");
  EXPECT_TRUE(m.independent_segments);
}

}  // namespace
}  // namespace cdn::live

namespace cdn::live {
namespace {

// Input pushed faster than real time (a packager, a catching-up encoder) must not make
// EXT-X-PROGRAM-DATE-TIME jump backwards when the drift exceeds the re-anchor threshold.
TEST(LivePlaylist, ProgramDateTimeNeverGoesBackwards) {
  LivePlaylistConfig cfg;
  cfg.window_segments = 30;
  LivePlaylist pl(cfg);
  int64_t now = kT0;
  for (int i = 0; i < 20; ++i) pl.append(seg(2.0, i == 10), now += 300);  // 2 s segments every 0.3 s
  auto p = parse(pl.live_playlist());
  ASSERT_EQ(p.segments.size(), 20u);
  for (size_t i = 1; i < p.segments.size(); ++i) {
    int64_t prev_end = *p.segments[i - 1].program_date_time_ms + 2000;
    EXPECT_GE(*p.segments[i].program_date_time_ms, prev_end) << "segment " << i;
  }
  // A stream that fell behind the clock (an input gap) is re-anchored forward.
  pl.append(seg(2.0), now + 600000);
  auto q = parse(pl.live_playlist());
  EXPECT_GE(*q.segments.back().program_date_time_ms, now + 600000 - 2000 - 1);
}

}  // namespace
}  // namespace cdn::live
