// The fMP4 box writer and parser, against each other and against malformed input.
#include <gtest/gtest.h>

#include "origin-shield/origin/live/fmp4_box.h"
#include "origin-shield/origin/live/fmp4_parse.h"
#include "origin-shield/origin/live/fmp4_writer.h"

namespace cdn::live::fmp4 {
namespace {

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

TEST(Fmp4Box, NestedSizesArePatchedOnClose) {
  std::string out;
  BoxWriter w(out);
  w.open("moof");
  w.open_full("mfhd", 0, 0);
  w.u32(7);
  w.close();
  w.close();
  ASSERT_EQ(out.size(), 24u);
  EXPECT_EQ(out.substr(0, 8), be32(24) + "moof");
  EXPECT_EQ(out.substr(8, 8), be32(16) + "mfhd");
  auto boxes = parse_boxes(out);
  ASSERT_TRUE(boxes);
  const Box* mfhd = find_box(*boxes, "moof/mfhd");
  ASSERT_TRUE(mfhd);
  EXPECT_EQ(parse_mfhd(mfhd->body), 7u);
}

TEST(Fmp4Parse, RejectsSizesThatOverrunTheParent) {
  EXPECT_FALSE(parse_boxes(be32(100) + "mdat" + "abc"));
  EXPECT_FALSE(parse_boxes(be32(4) + "mdat"));                      // smaller than its header
  EXPECT_FALSE(parse_boxes(be32(16) + "moof" + be32(9) + "mfhd"));  // child past parent
  EXPECT_FALSE(parse_boxes(std::string_view("\0\0\0", 3)));         // truncated header
  // A box of size 1 takes its size from a 64-bit field; it must still fit.
  EXPECT_FALSE(parse_boxes(be32(1) + "mdat" + be32(0) + be32(100)));
  EXPECT_TRUE(parse_boxes(be32(1) + "mdat" + be32(0) + be32(18) + "xy"));
}

TEST(Fmp4Parse, BoundsNestingDepth) {
  std::string s;
  for (int i = 0; i < kMaxBoxDepth + 3; ++i) s = be32(uint32_t(8 + s.size())) + "moov" + s;
  EXPECT_FALSE(parse_boxes(s));
}

TEST(Fmp4Parse, TrunSampleCountIsCheckedAgainstTheBytes) {
  // version 1, flags duration+size, a count of 2^31 with no samples present
  std::string body = std::string("\x01\x00\x03\x00", 4) + be32(0x80000000u);
  EXPECT_FALSE(parse_trun(body));
}

TEST(Fmp4Writer, InitSegmentHasOneTrackPerStreamAndTrex) {
  InitConfig c;
  c.video.emplace();
  c.video->width = 320;
  c.video->height = 240;
  c.video->sps = std::string("\x67\x64\x00\x0d\xac", 5);
  c.video->pps = std::string("\x68\xeb\xe3\xcb", 4);
  c.audio.emplace();
  c.audio->sample_rate = 48000;
  c.audio->channels = 2;
  c.audio->audio_specific_config = std::string("\x11\x90", 2);
  const std::string init = write_init(c);  // the parsed boxes are views into it
  auto boxes = parse_boxes(init);
  ASSERT_TRUE(boxes);
  ASSERT_EQ(boxes->size(), 2u);
  EXPECT_EQ((*boxes)[0].type, "ftyp");
  const Box& moov = (*boxes)[1];
  auto traks = moov.all("trak");
  ASSERT_EQ(traks.size(), 2u);
  const Box* avcc = traks[0]->find("mdia/minf/stbl/stsd/avc1/avcC");
  ASSERT_TRUE(avcc);
  EXPECT_EQ(uint8_t(avcc->body[1]), 0x64);  // profile from the SPS
  EXPECT_TRUE(traks[1]->find("mdia/minf/stbl/stsd/mp4a/esds"));
  EXPECT_EQ(parse_mdhd_timescale(traks[0]->find("mdia/mdhd")->body), kTimescale);
  EXPECT_EQ(moov.find("mvex")->all("trex").size(), 2u);
}

TEST(Fmp4Writer, FragmentDataOffsetsPointAtEachTracksSamples) {
  TrackRun v{1, 900000, {{3600, 3, true, 7200}, {3600, 2, false, 0}}, "AAABB"};
  TrackRun a{2, 899000, {{1920, 4, true, 0}}, "CCCC"};
  const std::string frag = write_fragment(5, {v, a});
  auto boxes = parse_boxes(frag);
  ASSERT_TRUE(boxes);
  ASSERT_EQ(boxes->size(), 2u);
  const Box& moof = (*boxes)[0];
  EXPECT_EQ((*boxes)[1].type, "mdat");
  EXPECT_EQ(parse_mfhd(moof.find("mfhd")->body), 5u);
  auto trafs = moof.all("traf");
  ASSERT_EQ(trafs.size(), 2u);
  const std::string expect[] = {"AAABB", "CCCC"};
  const uint64_t times[] = {900000, 899000};
  for (size_t i = 0; i < 2; ++i) {
    auto tfhd = parse_tfhd(trafs[i]->find("tfhd")->body);
    ASSERT_TRUE(tfhd);
    EXPECT_EQ(tfhd->track_id, i + 1);
    EXPECT_EQ(parse_tfdt(trafs[i]->find("tfdt")->body), times[i]);
    auto trun = parse_trun(trafs[i]->find("trun")->body);
    ASSERT_TRUE(trun && trun->data_offset);
    size_t total = 0;
    for (auto& s : trun->samples) total += s.size;
    // default-base-is-moof: offsets count from the moof's first byte
    EXPECT_EQ(frag.substr(moof.offset + size_t(*trun->data_offset), total), expect[i]);
  }
  auto trun = parse_trun(trafs[0]->find("trun")->body);
  EXPECT_TRUE(is_sync_sample(trun->samples[0].flags));
  EXPECT_FALSE(is_sync_sample(trun->samples[1].flags));
  EXPECT_EQ(trun->samples[0].composition_offset, 7200);
}

}  // namespace
}  // namespace cdn::live::fmp4
