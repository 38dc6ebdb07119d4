// The fMP4 output's store records: what is written reads back the same, and a damaged record
// (truncated, or with a length past its end) is refused instead of read past its end.
#include <gtest/gtest.h>

#include "origin-shield/origin/live_cmaf_store.h"

namespace cdn::origin {
namespace {

CmafStoredSegment sample() {
  CmafStoredSegment s;
  s.muxed = make_bytes(std::string("styp-moof-mdat"));
  s.video = make_bytes(std::string("video"));
  s.t = 900000;
  s.d = 90000;
  s.audio_t = 899000;
  s.audio_d = 91000;
  s.init_id = 7;
  live::Cue c;
  c.event_id = 77;
  c.pts = 900000;
  c.duration_s = 4.0;
  c.section = std::string("\xfc\x30\x00", 3);
  s.cues.push_back(c);
  return s;
}

TEST(CmafStore, SegmentInitAndStateRoundTrip) {
  const CmafStoredSegment s = sample();
  auto back = decode_cmaf_segment(encode_cmaf_segment(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back->muxed, *s.muxed);
  EXPECT_EQ(*back->video, "video");
  EXPECT_FALSE(back->audio);
  EXPECT_EQ(back->t, s.t);
  EXPECT_EQ(back->d, s.d);
  EXPECT_EQ(back->audio_t, s.audio_t);
  EXPECT_EQ(back->audio_d, s.audio_d);
  EXPECT_EQ(back->init_id, 7u);
  ASSERT_EQ(back->cues.size(), 1u);
  EXPECT_EQ(back->cues[0].event_id, 77u);
  EXPECT_EQ(back->cues[0].section, s.cues[0].section);
  EXPECT_DOUBLE_EQ(*back->cues[0].duration_s, 4.0);

  live::CmafInit init;
  init.id = 7;
  init.muxed = make_bytes(std::string("ftyp-moov"));
  init.audio = make_bytes(std::string("audio-moov"));
  auto i = decode_cmaf_init(encode_cmaf_init(init));
  ASSERT_TRUE(i);
  EXPECT_EQ(i->id, 7u);
  EXPECT_EQ(*i->muxed, "ftyp-moov");
  EXPECT_FALSE(i->video);
  EXPECT_EQ(*i->audio, "audio-moov");

  auto st = decode_cmaf_state(encode_cmaf_state({"llhls1 0 1 1\n", 1'800'000'000'000}));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->playlist, "llhls1 0 1 1\n");
  EXPECT_EQ(st->media_zero_ms, 1'800'000'000'000);
  EXPECT_EQ(cmaf_key('s', "demo", "720p", 12), "fs/demo/720p/00000000000000000012");
  EXPECT_EQ(cmaf_key('p', "demo", "720p", std::nullopt), "fp/demo/720p");
}

TEST(CmafStore, DamagedRecordsAreRefused) {
  const std::string whole = encode_cmaf_segment(sample());
  for (size_t n = 0; n < whole.size(); ++n)
    EXPECT_FALSE(decode_cmaf_segment(std::string_view(whole).substr(0, n))) << n;
  std::string longer = whole + "x";
  EXPECT_FALSE(decode_cmaf_segment(longer));
  std::string bad_length = whole;
  bad_length[40] = char(0xff);  // the muxed field's length, past the end
  EXPECT_FALSE(decode_cmaf_segment(bad_length));
  EXPECT_FALSE(decode_cmaf_init("short"));
  EXPECT_FALSE(decode_cmaf_state(""));
}

}  // namespace
}  // namespace cdn::origin
