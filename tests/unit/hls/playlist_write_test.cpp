#include <gtest/gtest.h>

#include "common/hls/parser.h"
#include "common/hls/writer.h"

namespace cdn::hls {
namespace {

MediaPlaylist sample_media() {
  MediaPlaylist p;
  p.target_duration = 4;
  p.media_sequence = 7;
  p.discontinuity_sequence = 1;
  p.type = PlaylistType::kEvent;
  p.independent_segments = true;
  const double durations[] = {3.84, 3.841, 2, 0.04};  // as the parser will read them back
  for (int i = 0; i < 4; ++i) {
    Segment s;
    s.duration = durations[i];
    s.uri = std::to_string(7 + i) + ".ts";
    s.program_date_time_ms = 1795000000000 + i * 3840;
    p.segments.push_back(s);
  }
  p.segments[1].discontinuity = true;
  p.segments[1].key = Key{"AES-128", "key.bin", "0x00000000000000000000000000000001", "", ""};
  DateRange d;
  d.id = "splice-1";
  d.start_date = "2026-11-21T05:25:39.126Z";
  d.planned_duration = 30;
  d.scte35_out = "0xFC302000";
  p.segments[2].dateranges.push_back(d);
  p.segments[2].cue_out = true;
  p.segments[2].cue_out_duration = 30;
  p.segments[3].cue_in = true;
  p.endlist = true;
  return p;
}

TEST(WriteMedia, RoundTripsThroughParser) {
  MediaPlaylist p = sample_media();
  std::string text = write(p);
  auto back = parse_media(text);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, p) << text;
  EXPECT_EQ(write(*back), text);
  EXPECT_EQ(back->version, 3);
}

TEST(WriteMedia, VersionFollowsFeatures) {
  MediaPlaylist p;
  p.target_duration = 2;
  p.segments.push_back(Segment{});
  p.segments[0].uri = "a.ts";
  EXPECT_NE(write(p).find("#EXT-X-VERSION:3\n"), std::string::npos);
  p.segments[0].key = Key{"SAMPLE-AES", "skd://x", "", "com.apple.streamingkeydelivery", "1"};
  EXPECT_NE(write(p).find("#EXT-X-VERSION:5\n"), std::string::npos);
  p.segments[0].map = Map{"init.mp4", ""};
  EXPECT_NE(write(p).find("#EXT-X-VERSION:6\n"), std::string::npos);
}

TEST(WriteMedia, LayoutIsWhatPlayersExpect) {
  MediaPlaylist p;
  p.target_duration = 2;
  p.media_sequence = 3;
  Segment s;
  s.duration = 2;
  s.uri = "3.ts";
  s.program_date_time_ms = 0;
  p.segments.push_back(s);
  EXPECT_EQ(write(p),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n"
            "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z\n#EXTINF:2,\n3.ts\n");
}

TEST(WriteMaster, RoundTripsThroughParser) {
  MasterPlaylist m;
  m.independent_segments = true;
  Rendition r;
  r.type = "CLOSED-CAPTIONS";
  r.group_id = "cc";
  r.name = "English";
  r.instream_id = "SERVICE1";
  m.media.push_back(r);
  Variant v;
  v.bandwidth = 1200000;
  v.average_bandwidth = 1000000;
  v.resolution = Resolution{640, 360};
  v.codecs = "avc1.4d401e,mp4a.40.2";
  v.frame_rate = 29.97;
  v.closed_captions = "\"cc\"";
  v.uri = "360p/index.m3u8";
  m.variants.push_back(v);
  Variant audio;
  audio.bandwidth = 130000;
  audio.codecs = "mp4a.40.2";
  audio.uri = "audio/index.m3u8";
  m.variants.push_back(audio);
  std::string text = write(m);
  EXPECT_NE(text.find("#EXT-X-VERSION:7\n"), std::string::npos) << text;
  auto back = parse_master(text);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, m) << text;
}

}  // namespace
}  // namespace cdn::hls
