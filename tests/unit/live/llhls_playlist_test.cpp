// The fMP4/LL-HLS playlist state: which blocking requests it satisfies, what it prints.
#include "origin-shield/origin/live/llhls_playlist.h"

#include <gtest/gtest.h>

namespace cdn::live {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Segments of `parts` parts of 0.5 s each, msn from 10, part numbers from 0.
struct Feeder {
  LlhlsPlaylist pl;
  uint64_t msn = 10, number = 0;
  explicit Feeder(LlhlsConfig c) : pl(c) {}
  void part(uint32_t index, bool discontinuity = false, uint64_t init = 10) {
    CmafPart p;
    p.sequence = msn;
    p.index = index;
    p.duration_s = 0.5;
    p.independent = index == 0;
    p.discontinuity = discontinuity;
    p.init_id = init;
    pl.add_part(p, 10, number++, 1'800'000'000'000);
  }
  void segment(uint32_t parts, bool discontinuity = false, uint64_t init = 10) {
    for (uint32_t i = 0; i < parts; ++i) part(i, discontinuity, init);
    CmafSegment s;
    s.sequence = msn++;
    s.duration_s = 0.5 * parts;
    s.discontinuity = discontinuity;
    s.init_id = init;
    s.parts = parts;
    pl.add_segment(s);
  }
};

LlhlsConfig config() {
  LlhlsConfig c;
  c.target_duration_s = 2;
  c.part_target_s = 0.5;
  c.window_segments = 6;
  return c;
}

TEST(LlhlsPlaylist, BlockingRequestsAreSatisfiedByThatPartOrAnyLater) {
  Feeder f(config());
  EXPECT_FALSE(f.pl.has(10, 0));
  f.segment(4);  // msn 10, parts 0-3
  f.part(0);     // msn 11 part 0
  f.part(1);
  EXPECT_TRUE(f.pl.has(10, -1));
  EXPECT_FALSE(f.pl.has(11, -1));  // a whole segment: only once complete
  EXPECT_TRUE(f.pl.has(11, 1));
  EXPECT_FALSE(f.pl.has(11, 2));
  EXPECT_TRUE(f.pl.has(10, 7));  // past the end of a completed segment: its successor's parts do
  EXPECT_EQ(f.pl.next_part().msn, 11u);
  EXPECT_EQ(f.pl.next_part().part, 2);
  auto last = f.pl.last_part();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->msn, 11u);
  EXPECT_EQ(last->part, 1);
}

TEST(LlhlsPlaylist, PrintsPartsHintServerControlAndReports) {
  Feeder f(config());
  f.segment(4);
  f.part(0);
  const std::string t = f.pl.render(false, {{"../360p/index.m3u8", 11, 0}});
  EXPECT_NE(t.find("#EXT-X-TARGETDURATION:2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,"
                   "PART-HOLD-BACK=1.500\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("#EXT-X-PART-INF:PART-TARGET=0.500\n"), std::string::npos);
  EXPECT_NE(t.find("#EXT-X-MEDIA-SEQUENCE:10\n"), std::string::npos);
  EXPECT_NE(t.find("#EXT-X-MAP:URI=\"init-10.mp4\"\n"), std::string::npos);
  EXPECT_NE(t.find("#EXT-X-PART:DURATION=0.500,URI=\"part-10-0.m4s\",INDEPENDENT=YES\n"),
            std::string::npos);
  EXPECT_NE(t.find("#EXT-X-PART:DURATION=0.500,URI=\"part-10-1.m4s\"\n"), std::string::npos);
  EXPECT_NE(t.find("#EXTINF:2.000,\n10.m4s\n"), std::string::npos);
  EXPECT_NE(t.find("#EXT-X-PART:DURATION=0.500,URI=\"part-10-4.m4s\",INDEPENDENT=YES\n"
                   "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-10-5.m4s\"\n"
                   "#EXT-X-RENDITION-REPORT:URI=\"../360p/index.m3u8\",LAST-MSN=11,LAST-PART=0\n"),
            std::string::npos)
      << t;
  EXPECT_EQ(count(t, "#EXT-X-PART:"), 5u);
}

TEST(LlhlsPlaylist, PartsOnlyNearTheLiveEdgeAndDeltaUpdatesSkipTheRest) {
  Feeder f(config());
  for (int i = 0; i < 6; ++i) f.segment(4);  // 6 segments of 2 s
  const std::string t = f.pl.render(false, {});
  // Parts for the segments within 3 target durations (6 s) of the end: the last three.
  EXPECT_EQ(count(t, "#EXT-X-PART:"), 12u) << t;
  EXPECT_EQ(count(t, "#EXTINF:"), 6u);
  // CAN-SKIP-UNTIL is 12 s = the whole window: nothing older to skip yet.
  const std::string d = f.pl.render(true, {});
  EXPECT_NE(d.find("#EXT-X-SKIP:SKIPPED-SEGMENTS=0\n"), std::string::npos) << d;
  LlhlsConfig wide = config();
  wide.window_segments = 10;
  Feeder g(wide);
  for (int i = 0; i < 10; ++i) g.segment(4);  // 20 s
  const std::string d2 = g.pl.render(true, {});
  EXPECT_NE(d2.find("#EXT-X-VERSION:9\n"), std::string::npos);
  EXPECT_NE(d2.find("#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n"), std::string::npos) << d2;
  EXPECT_EQ(count(d2, "#EXTINF:"), 6u);
  EXPECT_NE(d2.find("#EXT-X-MEDIA-SEQUENCE:10\n"), std::string::npos);
}

TEST(LlhlsPlaylist, NewInitAndDiscontinuityAndEnd) {
  Feeder f(config());
  f.segment(4);
  f.segment(4, true, 11);
  f.pl.end();
  const std::string t = f.pl.render(false, {});
  EXPECT_NE(t.find("#EXTINF:2.000,\n10.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-11.mp4\"\n"
                   "#EXT-X-PROGRAM-DATE-TIME:"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("#EXT-X-ENDLIST\n"), std::string::npos);
  EXPECT_EQ(t.find("PRELOAD-HINT"), std::string::npos);
}

TEST(LlhlsPlaylist, PlainFmp4HasNoPartsOrServerControl) {
  LlhlsConfig c = config();
  c.parts = false;
  Feeder f(c);
  f.segment(4);
  f.part(0);
  const std::string t = f.pl.render(true, {{"../x/index.m3u8", 1, 1}});
  EXPECT_EQ(t.find("#EXT-X-PART"), std::string::npos);
  EXPECT_EQ(t.find("SERVER-CONTROL"), std::string::npos);
  EXPECT_EQ(t.find("SKIP"), std::string::npos);
  EXPECT_EQ(t.find("RENDITION-REPORT"), std::string::npos);
  EXPECT_NE(t.find("#EXT-X-VERSION:6\n"), std::string::npos);
  EXPECT_EQ(count(t, "#EXTINF:"), 1u);
}

// The store's copy: a restored playlist lists the same segments (without parts) and, ended,
// prints the same whole-segment playlist; damaged state is refused.
TEST(LlhlsPlaylist, SerializedStateRestoresTheSegments) {
  LlhlsConfig c = config();
  c.parts = false;
  Feeder f(c);
  f.segment(4);
  f.segment(4, true, 11);
  f.segment(3, false, 11);
  f.pl.end();
  auto back = LlhlsPlaylist::deserialize(f.pl.serialize(), c);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->render(false, {}), f.pl.render(false, {}));
  EXPECT_TRUE(back->ended());
  EXPECT_EQ(back->last_msn(), 12u);
  EXPECT_FALSE(LlhlsPlaylist::deserialize("llhls1 0 2", c));
  EXPECT_FALSE(LlhlsPlaylist::deserialize("llhls1 0 2 0\n11 2.0 0 10 0\n10 2.0 0 10 0\n", c));
  EXPECT_FALSE(LlhlsPlaylist::deserialize("ts1 0 2 0\n", c));
}

// SCTE-35 on a segment's first part: its date range is printed with the open segment and stays.
TEST(LlhlsPlaylist, SpliceOnTheFirstPartIsADateRange) {
  Feeder f(config());
  f.segment(4);
  CmafPart p;
  p.sequence = f.msn;
  p.duration_s = 0.5;
  p.independent = true;
  p.init_id = 10;
  Cue cue;
  cue.event_id = 77;
  cue.duration_s = 30.0;
  cue.section = "\xfc";
  p.cues.push_back(cue);
  f.pl.add_part(p, 10, f.number++, 1'800'000'000'000);
  const std::string open = f.pl.render(false, {});
  EXPECT_EQ(count(open, "#EXT-X-DATERANGE:ID=\"splice-77\""), 1u) << open;
  EXPECT_NE(open.find("SCTE35-OUT=0xFC"), std::string::npos) << open;
  EXPECT_NE(open.find("PLANNED-DURATION=30"), std::string::npos) << open;
  EXPECT_NE(open.find("#EXT-X-CUE-OUT:30"), std::string::npos) << open;
  // Dated: the segment it is on has its own program date-time.
  EXPECT_EQ(count(open, "#EXT-X-PROGRAM-DATE-TIME:"), 2u) << open;
}

}  // namespace
}  // namespace cdn::live
