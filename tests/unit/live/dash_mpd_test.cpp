// The dynamic MPD writer.
#include "origin-shield/origin/live/dash_mpd.h"

#include <gtest/gtest.h>

namespace cdn::live {
namespace {

TEST(DashMpd, TimelineAndTemplatePerRepresentation) {
  DashManifest m;
  m.availability_start_ms = 1'800'000'000'000;
  m.published_ms = 1'800'000'010'000;
  m.utc_timing_url = "/live/time";
  DashRepresentation v;
  v.id = "720p";
  v.prefix = "720p/v-";
  v.codecs = "avc1.64001f";
  v.bandwidth = 1000000;
  v.width = 1280;
  v.height = 720;
  v.init_id = 7;
  v.segments = {{7, 900000, 180000}, {8, 1080000, 180000}, {9, 1300000, 90000}};
  m.video.push_back(v);
  const std::string x = write_mpd(m);
  EXPECT_NE(x.find("type=\"dynamic\" availabilityStartTime=\"2027-01-15T08:00:00.000Z\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("minimumUpdatePeriod="), std::string::npos);
  EXPECT_NE(x.find("<SegmentTemplate timescale=\"90000\" startNumber=\"7\" "
                   "initialization=\"720p/v-init-7.mp4\" media=\"720p/v-$Number$.m4s\">"),
            std::string::npos)
      << x;
  // t only where the timeline does not simply continue.
  EXPECT_NE(x.find("<S t=\"900000\" d=\"180000\"/>\n            <S d=\"180000\"/>\n"
                   "            <S t=\"1300000\" d=\"90000\"/>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("width=\"1280\" height=\"720\""), std::string::npos);
  EXPECT_EQ(x.find("contentType=\"audio\""), std::string::npos);
  EXPECT_NE(
      x.find("<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" value=\"/live/time\"/>"),
      std::string::npos);
  EXPECT_EQ(x.find("availabilityTimeOffset"), std::string::npos);
  EXPECT_EQ(x.find("<ServiceDescription"), std::string::npos);
  // Low-latency: segments may be fetched early, and are sent as written.
  m.availability_time_offset_s = 1.667;
  m.latency_target_ms = 999;
  m.max_segment_s = 2;
  const std::string ll = write_mpd(m);
  EXPECT_NE(ll.find("media=\"720p/v-$Number$.m4s\" availabilityTimeOffset=\"1.667\" "
                    "availabilityTimeComplete=\"false\">"),
            std::string::npos)
      << ll;
  EXPECT_NE(ll.find("<ServiceDescription id=\"0\">\n    <Latency target=\"999\" max=\"12000\"/>"),
            std::string::npos)
      << ll;
  EXPECT_LT(ll.find("<ServiceDescription"), ll.find("<Period"));
  m.ended = true;
  m.video[0].id = "a\"<b";
  const std::string e = write_mpd(m);
  EXPECT_EQ(e.find("minimumUpdatePeriod="), std::string::npos);
  EXPECT_NE(e.find("id=\"a&quot;&lt;b\""), std::string::npos);
}

// An ended stream held from its first segment: a static MPD of the whole presentation, its
// timeline starting at presentation time 0 (presentationTimeOffset), no live-only attributes.
TEST(DashMpd, StaticWhenTheWholePresentationIsListed) {
  DashManifest m;
  m.availability_time_offset_s = 1.5;
  m.latency_target_ms = 999;
  DashRepresentation v;
  v.id = "720p";
  v.prefix = "720p/v-";
  v.segments = {{0, 126000, 180000}, {1, 306000, 90000}};
  m.video.push_back(v);
  m.ended = m.whole = true;
  m.duration_s = 3;
  m.presentation_time_offset = 126000;
  m.events = {{77, 306000, 0, "x"}};
  const std::string x = write_mpd(m);
  EXPECT_NE(x.find("type=\"static\" mediaPresentationDuration=\"PT3.000S\""), std::string::npos)
      << x;
  for (const char* live :
       {"availabilityStartTime", "minimumUpdatePeriod", "timeShiftBufferDepth",
        "suggestedPresentationDelay", "availabilityTimeOffset", "ServiceDescription"})
    EXPECT_EQ(x.find(live), std::string::npos) << live;
  EXPECT_NE(x.find("media=\"720p/v-$Number$.m4s\" presentationTimeOffset=\"126000\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("timescale=\"90000\" presentationTimeOffset=\"126000\">"), std::string::npos);
}

// SCTE-35 splices: an EventStream in the Period, each section in base64 (RFC 4648, padded).
TEST(DashMpd, SpliceEventsInThePeriod) {
  DashManifest m;
  DashRepresentation v;
  v.id = "720p";
  v.prefix = "720p/v-";
  v.segments = {{7, 900000, 180000}};
  m.video.push_back(v);
  EXPECT_EQ(write_mpd(m).find("<EventStream"), std::string::npos);
  m.events = {{77, 900000, 360000, "hello"}, {78, 1080000, 0, std::string("\xfc\x30\x00", 3)}};
  const std::string x = write_mpd(m);
  EXPECT_NE(x.find("<Period id=\"0\" start=\"PT0S\">\n    <EventStream "
                   "schemeIdUri=\"urn:scte:scte35:2013:bin\" timescale=\"90000\">\n"
                   "      <Event presentationTime=\"900000\" duration=\"360000\" "
                   "id=\"77\">aGVsbG8=</Event>\n"
                   "      <Event presentationTime=\"1080000\" id=\"78\">/DAA</Event>\n"
                   "    </EventStream>\n    <AdaptationSet"),
            std::string::npos)
      << x;
}


// Low-latency DASH over segments of one duration: SegmentTemplate@duration from the timeline's
// first number, presentation time 0 at its media time, so availabilityStartTime moves with it.
TEST(DashMpd, DurationTemplateInsteadOfTheTimeline) {
  DashManifest m;
  m.availability_start_ms = 1'800'000'000'000;
  m.published_ms = 1'800'000'010'000;
  m.availability_time_offset_s = 1.667;
  m.latency_target_ms = 1500;
  DashRepresentation v;
  v.id = "720p";
  v.prefix = "720p/v-";
  v.init_id = 7;
  v.segments = {{9, 126000 + 2 * 180000, 180000}, {10, 126000 + 3 * 180000, 180000}};
  m.video.push_back(v);
  m.numbering = duration_numbering(v.segments, 7);
  ASSERT_TRUE(m.numbering);
  EXPECT_EQ(m.numbering->duration, 180000);
  EXPECT_EQ(m.numbering->start_number, 7u);
  EXPECT_EQ(m.numbering->start_t, 126000);
  const std::string x = write_mpd(m);
  EXPECT_NE(x.find("availabilityStartTime=\"2027-01-15T08:00:01.400Z\""), std::string::npos) << x;
  EXPECT_NE(x.find("<SegmentTemplate timescale=\"90000\" startNumber=\"7\" "
                   "initialization=\"720p/v-init-7.mp4\" media=\"720p/v-$Number$.m4s\" "
                   "duration=\"180000\" presentationTimeOffset=\"126000\" "
                   "availabilityTimeOffset=\"1.667\" availabilityTimeComplete=\"false\"/>"),
            std::string::npos)
      << x;
  EXPECT_EQ(x.find("SegmentTimeline"), std::string::npos);
  // A whole (static) presentation keeps its exact timeline.
  m.ended = m.whole = true;
  EXPECT_NE(write_mpd(m).find("<SegmentTimeline>"), std::string::npos);
}

TEST(DashMpd, DurationNumberingOnlyOnOneGrid) {
  // Within a tenth of a segment of the grid: an audio-like jitter of a frame is on it.
  auto n =
      duration_numbering({{3, 90000, 90000}, {4, 180000 + 1920, 88080}, {5, 270000, 90000}}, 3);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->duration, 90000);
  // A segment 1.6 s long among 1 s ones puts every later one off the grid.
  EXPECT_FALSE(duration_numbering({{0, 0, 90000}, {1, 90000, 144000}, {2, 234000, 90000}}, 0));
  // The window is past segments that left it: the grid still counts from the first number.
  n = duration_numbering({{12, 1'080'000 + 5000, 90000}, {13, 1'170'000 + 5000, 90000}}, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->start_t, 5000);
  // A first number the window does not follow, or a grid before media time 0: none.
  EXPECT_FALSE(duration_numbering({{2, 0, 90000}}, 5));
  EXPECT_FALSE(duration_numbering({{4, 90000, 90000}}, 0));
  EXPECT_FALSE(duration_numbering({}, 0));
}

}  // namespace
}  // namespace cdn::live
