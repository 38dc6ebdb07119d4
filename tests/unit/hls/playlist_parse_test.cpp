#include <gtest/gtest.h>

#include "common/hls/datetime.h"
#include "common/hls/parser.h"
#include "common/hls/writer.h"

namespace cdn::hls {
namespace {

constexpr std::string_view kLive =
    "#EXTM3U\r\n"
    "#EXT-X-VERSION:3\r\n"
    "#EXT-X-TARGETDURATION:6\r\n"
    "#EXT-X-MEDIA-SEQUENCE:120\r\n"
    "#EXT-X-DISCONTINUITY-SEQUENCE:2\r\n"
    "# a comment\r\n"
    "#EXT-X-UNKNOWN-TAG:whatever\r\n"
    "\r\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T05:25:33.120Z\r\n"
    "#EXTINF:6.006,\r\n"
    "seg120.ts  \r\n"
    "#EXT-X-DISCONTINUITY\r\n"
    "#EXT-X-KEY:METHOD=AES-128,URI=\"https://k.example/key?id=1\",IV=0x0102\r\n"
    "#EXT-X-DATERANGE:ID=\"ad-1\",START-DATE=\"2026-11-21T05:25:39.126Z\","
    "PLANNED-DURATION=30,X-COM-EXAMPLE=\"a,b\",SCTE35-OUT=0xFC30\r\n"
    "#EXT-X-CUE-OUT:DURATION=30\r\n"
    "#EXTINF:5,title here\r\n"
    "seg121.ts\r\n"
    "#EXT-X-CUE-IN\r\n"
    "#EXTINF:4.5\r\n"
    "seg122.ts\r\n";

TEST(ParseMedia, ReadsLivePlaylistTolerantly) {
  auto r = parse_media(kLive);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const MediaPlaylist& p = *r;
  EXPECT_EQ(p.version, 3);
  EXPECT_EQ(p.target_duration, 6);
  EXPECT_EQ(p.media_sequence, 120u);
  EXPECT_EQ(p.discontinuity_sequence, 2u);
  ASSERT_EQ(p.segments.size(), 3u);
  EXPECT_DOUBLE_EQ(p.segments[0].duration, 6.006);
  EXPECT_EQ(p.segments[0].uri, "seg120.ts");
  EXPECT_EQ(p.segments[0].program_date_time_ms, parse_iso8601_ms("2026-11-21T05:25:33.120Z"));
  EXPECT_TRUE(p.segments[1].discontinuity);
  ASSERT_TRUE(p.segments[1].key);
  EXPECT_EQ(p.segments[1].key->uri, "https://k.example/key?id=1");
  EXPECT_EQ(p.segments[1].key->iv, "0x0102");
  ASSERT_EQ(p.segments[1].dateranges.size(), 1u);
  const DateRange& d = p.segments[1].dateranges[0];
  EXPECT_EQ(d.id, "ad-1");
  EXPECT_EQ(d.planned_duration, 30.0);
  EXPECT_EQ(d.scte35_out, "0xFC30");
  ASSERT_EQ(d.client_attributes.size(), 1u);
  EXPECT_EQ(d.client_attributes[0].second, "\"a,b\"");
  EXPECT_TRUE(p.segments[1].cue_out);
  EXPECT_EQ(p.segments[1].cue_out_duration, 30.0);
  EXPECT_EQ(p.segments[1].title, "title here");
  EXPECT_TRUE(p.segments[2].cue_in);
  EXPECT_FALSE(p.endlist);
}

TEST(ParseMedia, RejectsWhatChangesMeaning) {
  EXPECT_FALSE(parse_media("").ok());
  EXPECT_FALSE(parse_media("#EXT-X-TARGETDURATION:6\n").ok());
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXTINF:2,\na.ts\n").ok()) << "no target duration";
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\na.ts\n").ok()) << "no EXTINF";
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:abc,\na.ts\n").ok());
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:-1\n").ok());
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:2,\n").ok());
  EXPECT_FALSE(
      parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-STREAM-INF:BANDWIDTH=1\na\n").ok());
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:now\n"
                           "#EXTINF:2,\na.ts\n")
                   .ok());
  EXPECT_FALSE(parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DATERANGE:ID=\"a\","
                           "START-DATE=\"2026-01-01T00:00:00Z\",X-A\"a\",B=\"c\"\n#EXTINF:2,\na.ts\n")
                   .ok())
      << "attribute name with a quote";
  auto r = parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:x,\na.ts\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "line 3: bad #EXTINF duration");
}

TEST(ParseMedia, EnforcesBounds) {
  ParseLimits limits;
  limits.max_segments = 3;
  std::string text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n";
  for (int i = 0; i < 4; ++i) text += "#EXTINF:2,\ns" + std::to_string(i) + ".ts\n";
  EXPECT_FALSE(parse_media(text, limits).ok());
  limits.max_segments = 4;
  EXPECT_TRUE(parse_media(text, limits).ok());
  limits.max_line_bytes = 10;
  text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n" + std::string(11, 'a') + "\n";
  EXPECT_FALSE(parse_media(text, limits).ok());
}

TEST(ParseMedia, VodAndMap) {
  auto r = parse_media(
      "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.000,\ns.m4s\n#EXT-X-ENDLIST\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, PlaylistType::kVod);
  EXPECT_TRUE(r->endlist);
  ASSERT_TRUE(r->segments[0].map);
  EXPECT_EQ(r->segments[0].map->uri, "init.mp4");
  EXPECT_EQ(required_version(*r), 6);
}

TEST(ParseMaster, ReadsVariantsAndMedia) {
  auto r = parse_master(
      "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,"
      "AUTOSELECT=YES,URI=\"audio/en.m3u8\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,"
      "CODECS=\"avc1.64001f,mp4a.40.2\",FRAME-RATE=25.000,AUDIO=\"aud\"\n"
      "720p/index.m3u8\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,CODECS=\"avc1.64001f\",URI=\"720p/if.m3u8\"\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->variants.size(), 1u);
  const Variant& v = r->variants[0];
  EXPECT_EQ(v.bandwidth, 2500000u);
  EXPECT_EQ(v.average_bandwidth, 2000000u);
  EXPECT_EQ(v.resolution, (Resolution{1280, 720}));
  EXPECT_EQ(v.codecs, "avc1.64001f,mp4a.40.2");
  EXPECT_EQ(v.frame_rate, 25.0);
  EXPECT_EQ(v.audio, "aud");
  EXPECT_EQ(v.uri, "720p/index.m3u8");
  ASSERT_EQ(r->media.size(), 1u);
  EXPECT_TRUE(r->media[0].is_default);
  EXPECT_EQ(r->media[0].uri, "audio/en.m3u8");
  ASSERT_EQ(r->iframe_variants.size(), 1u);
  EXPECT_EQ(r->iframe_variants[0].uri, "720p/if.m3u8");
}

TEST(ParseMaster, RejectsBrokenMaster) {
  EXPECT_FALSE(parse_master("#EXTM3U\n").ok());
  EXPECT_FALSE(parse_master("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n").ok());
  EXPECT_FALSE(parse_master("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n").ok());
  EXPECT_FALSE(parse_master("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"x\na.m3u8\n").ok());
  EXPECT_FALSE(parse_master("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-STREAM-INF:BANDWIDTH=1\na\n")
                   .ok());
  // Quoted-string attributes must be quoted, or the writer could not reproduce them.
  EXPECT_FALSE(parse_master("#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=I=\"i.m3u8\"\n").ok());
  EXPECT_FALSE(parse_master("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=avc1\na.m3u8\n").ok());
}

TEST(DateTime, RoundTripsAndZones) {
  auto t = parse_iso8601_ms("2026-11-21T05:25:33.120Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_iso8601_ms(*t), "2026-11-21T05:25:33.120Z");
  EXPECT_EQ(parse_iso8601_ms("2026-11-21T07:25:33.120+02:00"), t);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(format_iso8601_ms(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_FALSE(parse_iso8601_ms("2026-11-21T05:25:33"));
  EXPECT_FALSE(parse_iso8601_ms("2026-13-21T05:25:33Z"));
}

}  // namespace
}  // namespace cdn::hls
