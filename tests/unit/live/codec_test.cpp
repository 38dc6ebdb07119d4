#include <gtest/gtest.h>

#include "origin-shield/origin/live/audio_header.h"
#include "origin-shield/origin/live/nal.h"
#include "origin-shield/origin/live/scte35.h"
#include "origin-shield/origin/live/timestamp.h"
#include "tests/unit/live/ts_builder.h"

namespace cdn::live {
namespace {

TEST(TimestampUnwrapper, CrossesTheWrapForwardAndKeepsJumps) {
  TimestampUnwrapper u;
  EXPECT_EQ(u.unwrap(kTimestampWrap - 3000), kTimestampWrap - 3000);
  EXPECT_EQ(u.unwrap(600), kTimestampWrap + 600);
  EXPECT_EQ(u.unwrap(kTimestampWrap - 1000), kTimestampWrap - 1000) << "B-frame reorder back";
  EXPECT_EQ(u.unwrap(4000), kTimestampWrap + 4000);
  EXPECT_EQ(u.peek(kTimestampWrap - 10), kTimestampWrap - 10);
  // A restart to a small value is a real backwards jump, not a wrap.
  TimestampUnwrapper v;
  v.unwrap(50 * kTimestampHz);
  EXPECT_EQ(v.unwrap(kTimestampHz), kTimestampHz);
}

TEST(NalScanner, FindsIdrAcrossSplitStartCodes) {
  // AUD, SPS (with a 4-byte start code), PPS, IDR slice: split at every position.
  const uint8_t es[] = {0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1E, 0xD9,
                        0, 0, 1, 0x68, 0xCE, 0, 0, 1, 0x65, 0x88, 0x84};
  for (size_t split = 0; split <= sizeof es; ++split) {
    NalScanner s;
    s.reset(Codec::kH264);
    bool done = s.feed(es, split);
    if (!done) done = s.feed(es + split, sizeof es - split);
    ASSERT_TRUE(done) << split;
    EXPECT_TRUE(s.keyframe()) << split;
    EXPECT_TRUE(s.saw_sps()) << split;
    EXPECT_EQ(s.sps(), (std::vector<uint8_t>{0x67, 0x42, 0xC0, 0x1E, 0xD9})) << split;
  }
  const uint8_t p_slice[] = {0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x41, 0x9A};
  NalScanner s;
  s.reset(Codec::kH264);
  ASSERT_TRUE(s.feed(p_slice, sizeof p_slice));
  EXPECT_FALSE(s.keyframe());
}

TEST(NalScanner, HevcIrapTypes) {
  for (int type : {16, 19, 20, 21, 1, 0}) {
    const uint8_t es[] = {0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 1, uint8_t(type << 1), 0x01, 0xAF};
    NalScanner s;
    s.reset(Codec::kHevc);
    ASSERT_TRUE(s.feed(es, sizeof es));
    EXPECT_EQ(s.keyframe(), type >= 16) << type;
  }
}

TEST(Sps, H264BaselineDimensions) {
  // 1280x720 Baseline 3.1 SPS (crop to 720 lines from 46 macroblock rows).
  const uint8_t sps[] = {0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01, 0x40, 0x16,
                         0xEC, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40,
                         0x00, 0x00, 0x0C, 0xA3, 0xC6, 0x0C, 0xA8};
  auto v = parse_h264_sps(sps, sizeof sps);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->codec_string, "avc1.42c01f");
  EXPECT_EQ(v->width, 1280);
  EXPECT_EQ(v->height, 720);
  EXPECT_FALSE(parse_h264_sps(sps, 3));
}

TEST(AudioHeader, AdtsAndAc3) {
  const uint8_t adts[] = {0xFF, 0xF1, 0x4C, 0x80, 0x2E, 0x7F, 0xFC};  // LC, 48 kHz, stereo
  auto a = parse_adts(adts, sizeof adts);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->codec_string, "mp4a.40.2");
  EXPECT_EQ(a->sample_rate, 48000);
  EXPECT_EQ(a->channels, 2);
  const uint8_t ac3[] = {0x0B, 0x77, 0, 0, 0x14, 0x40, 0xE0};  // 48 kHz, bsid 8, 3/2
  auto b = parse_ac3(ac3, sizeof ac3);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->codec_string, "ac-3");
  EXPECT_EQ(b->sample_rate, 48000);
  EXPECT_EQ(b->channels, 5);
  EXPECT_FALSE(parse_adts(ac3, sizeof ac3));
}

TEST(Scte35, SpliceInsertOutWithDuration) {
  auto s = testing::make_splice_insert(42, true, kTimestampWrap - 90000, 30 * kTimestampHz);
  auto info = parse_splice_info(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->command_type, kSpliceInsert);
  EXPECT_EQ(info->event_id, 42u);
  EXPECT_EQ(info->direction, SpliceDirection::kOut);
  EXPECT_EQ(info->pts_time, uint64_t(kTimestampWrap - 90000));
  EXPECT_EQ(info->duration, uint64_t(30 * kTimestampHz));
  EXPECT_TRUE(info->auto_return);
  auto in = testing::make_splice_insert(43, false, std::nullopt, std::nullopt);
  info = parse_splice_info(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->direction, SpliceDirection::kIn);
  EXPECT_TRUE(info->immediate);
  auto cancel = testing::make_splice_insert(42, true, std::nullopt, std::nullopt, true);
  info = parse_splice_info(reinterpret_cast<const uint8_t*>(cancel.data()), cancel.size());
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->cancel);
}

TEST(Scte35, TimeSignalWithSegmentationDescriptor) {
  auto s = testing::make_time_signal(7, 123456, 0x34, 60 * kTimestampHz);
  auto info = parse_splice_info(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->command_type, kTimeSignal);
  EXPECT_EQ(info->direction, SpliceDirection::kOut);
  EXPECT_EQ(info->event_id, 7u);
  EXPECT_EQ(info->pts_time, 123456u);
  EXPECT_EQ(info->duration, uint64_t(60 * kTimestampHz));
  auto end = testing::make_time_signal(7, 999, 0x35, std::nullopt);
  info = parse_splice_info(reinterpret_cast<const uint8_t*>(end.data()), end.size());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->direction, SpliceDirection::kIn);
  // Truncated: no crash, no result.
  for (size_t n = 0; n < s.size(); ++n)
    parse_splice_info(reinterpret_cast<const uint8_t*>(s.data()), n);
}

}  // namespace
}  // namespace cdn::live
