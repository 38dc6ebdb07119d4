// FLV tags -> access units (FlvMedia) -> MPEG-TS (TsMuxer), read back by the live library's own
// demuxer: what the segmenter will see.
#include <gtest/gtest.h>

#include "origin-shield/origin/ingest/flv_media.h"
#include "origin-shield/origin/ingest/ts_muxer.h"
#include "tests/unit/ingest/flv_tags.h"
#include "tests/unit/ingest/media_samples.h"

using namespace cdn::origin::ingest;
using namespace ingest_test;
using ingest_samples::kH264Nals;
using ingest_samples::kHevcNals;

namespace {

const std::string kSc("\0\0\0\1", 4);

struct Pipeline {
  FlvMedia flv;
  TsMuxer mux;
  std::string ts;
  const char* video(uint32_t t, const std::string& tag) { return push(true, t, tag); }
  const char* audio(uint32_t t, const std::string& tag) { return push(false, t, tag); }
  const char* push(bool v, uint32_t t, const std::string& tag) {
    AccessUnit au;
    const char* err = v ? flv.video(t, tag, au) : flv.audio(t, tag, au);
    if (!err) mux.write(au, flv.video_codec(), flv.has_audio(), ts);
    return err;
  }
};

}  // namespace

TEST(FlvMedia, AvcKeyframesGetAudAndTheParameterSetsEveryTime) {
  FlvMedia f;
  AccessUnit au;
  ASSERT_EQ(f.video(0, avc_sequence_header(), au), nullptr);
  EXPECT_EQ(au.codec, EsCodec::None);
  const std::string want_key = kSc + std::string("\x09\xF0", 2) + kSc + kH264Nals[0] + kSc +
                               kH264Nals[1] + kSc + kH264Nals[2];
  for (uint32_t t : {0u, 2000u}) {  // the encoder sent SPS/PPS once; both keyframes carry them
    ASSERT_EQ(f.video(t, avc_frame(true, 80), au), nullptr);
    EXPECT_EQ(au.codec, EsCodec::H264);
    EXPECT_TRUE(au.keyframe);
    EXPECT_EQ(au.dts_ms, t);
    EXPECT_EQ(au.pts_ms, t + 80);
    EXPECT_EQ(au.data, want_key);
  }
  ASSERT_EQ(f.video(40, avc_frame(false, -40), au), nullptr);
  EXPECT_FALSE(au.keyframe);
  EXPECT_EQ(au.pts_ms, 0);
  EXPECT_EQ(au.data,
            kSc + std::string("\x09\xF0", 2) + kSc + std::string("\x41\x9A\x02\x03\x04", 5));
}

TEST(FlvMedia, HevcOverEnhancedRtmp) {
  FlvMedia f;
  AccessUnit au;
  ASSERT_EQ(f.video(0, hevc_frame(true, true), au), nullptr);  // before its sequence start: dropped
  EXPECT_EQ(au.codec, EsCodec::None);
  ASSERT_EQ(f.video(0, hevc_sequence_header(), au), nullptr);
  EXPECT_EQ(f.video_codec(), EsCodec::Hevc);
  ASSERT_EQ(f.video(1000, hevc_frame(true, true, 40), au), nullptr);
  EXPECT_EQ(au.codec, EsCodec::Hevc);
  EXPECT_EQ(au.pts_ms, 1040);
  EXPECT_EQ(au.data, kSc + std::string("\x46\x01\x50", 3) + kSc + kHevcNals[0] + kSc +
                         kHevcNals[1] + kSc + kHevcNals[2] + kSc + kHevcNals[3]);
  ASSERT_EQ(f.video(1040, hevc_frame(false, false), au), nullptr);  // CodedFramesX: no CTS
  EXPECT_FALSE(au.keyframe);
  EXPECT_EQ(au.pts_ms, 1040);
  EXPECT_EQ(au.data,
            kSc + std::string("\x46\x01\x50", 3) + kSc + std::string("\x02\x01\xD0\x01\x02", 5));
}

TEST(FlvMedia, AacBecomesAdts) {
  FlvMedia f;
  AccessUnit au;
  ASSERT_EQ(f.audio(0, aac_frame("early"), au), nullptr);  // before the config: nothing to say
  EXPECT_EQ(au.codec, EsCodec::None);
  ASSERT_EQ(f.audio(0, aac_sequence_header(), au), nullptr);
  ASSERT_EQ(f.audio(23, aac_frame(std::string(100, 'a')), au), nullptr);
  ASSERT_EQ(au.codec, EsCodec::Aac);
  ASSERT_EQ(au.data.size(), 107u);
  auto b = [&](int i) { return uint8_t(au.data[size_t(i)]); };
  EXPECT_EQ(b(0), 0xFF);
  EXPECT_EQ(b(1), 0xF1);
  EXPECT_EQ(b(2) >> 6, 1);                        // profile: object type 2 (LC) - 1
  EXPECT_EQ((b(2) >> 2) & 0xF, 4);                // 44100 Hz
  EXPECT_EQ(((b(2) & 1) << 2) | (b(3) >> 6), 2);  // stereo
  EXPECT_EQ(((b(3) & 3) << 11) | (b(4) << 3) | (b(5) >> 5), 107);  // frame length with header
  EXPECT_EQ(au.data.substr(7), std::string(100, 'a'));
}

TEST(FlvMedia, UnsupportedAndMalformedTagsAreNamed) {
  FlvMedia f;
  AccessUnit au;
  EXPECT_STREQ(f.video(0, std::string("\x22\x00\x00", 3), au), "unsupported-codec");  // Sorenson
  EXPECT_STREQ(f.video(0,
                       std::string("\x90"
                                   "av01",
                                   5),
                       au),
               "unsupported-codec");
  EXPECT_STREQ(f.audio(0, std::string("\x2F\x00", 2), au), "unsupported-codec");          // MP3
  EXPECT_STREQ(f.audio(0, std::string("\xAF\x00\xF8\x00", 4), au), "unsupported-codec");  // AOT 31
  EXPECT_STREQ(f.video(0, std::string("\x17\x00\x00", 3), au), "bad-flv-tag");
  std::string seq = avc_sequence_header();
  for (size_t cut = 6; cut < seq.size(); cut += 3)
    EXPECT_STREQ(f.video(0, seq.substr(0, cut), au), "bad-flv-tag") << cut;
  ASSERT_EQ(f.video(0, seq, au), nullptr);
  std::string frame = avc_frame(true, 0);
  EXPECT_STREQ(f.video(0, frame.substr(0, frame.size() - 1), au), "bad-flv-tag");  // NAL overruns
  EXPECT_STREQ(f.video(0, std::string("\x17\x01\x00\x00\x00\x00\x00\x00\x00", 9), au),
               "bad-flv-tag");
}

TEST(TsMuxer, AvcAndAacReadBackByTheLiveDemuxer) {
  Pipeline p;
  ASSERT_EQ(p.video(0, avc_sequence_header()), nullptr);
  ASSERT_EQ(p.audio(0, aac_sequence_header()), nullptr);
  ASSERT_EQ(p.video(0, avc_frame(true, 80)), nullptr);
  ASSERT_EQ(p.audio(10, aac_frame(std::string(300, 'a'))), nullptr);
  ASSERT_EQ(p.video(40, avc_frame(false, 0)), nullptr);
  ASSERT_EQ(p.video(80, avc_frame(true, 0)), nullptr);
  ASSERT_EQ(p.ts.size() % 188, 0u);
  Demuxed d = demux(p.ts);
  EXPECT_EQ(d.stats.crc_errors, 0u);
  EXPECT_EQ(d.stats.cc_errors, 0u);
  EXPECT_EQ(d.stats.pes_errors, 0u);
  ASSERT_FALSE(d.programs.empty());
  const auto& pmt = d.programs.back();
  EXPECT_EQ(pmt.pcr_pid, TsMuxer::kVideoPid);
  ASSERT_EQ(pmt.streams.size(), 2u);
  EXPECT_EQ(pmt.streams[0].codec, cdn::live::Codec::kH264);
  EXPECT_EQ(pmt.streams[1].codec, cdn::live::Codec::kAac);
  ASSERT_EQ(d.pes.size(), 4u);
  EXPECT_EQ(d.pes[0].dts, 1000 * 90);  // FLV time 0 + the muxer's 1 s offset
  EXPECT_EQ(d.pes[0].pts, 1080 * 90);
  EXPECT_TRUE(d.pes[0].random_access);
  EXPECT_EQ(d.pes[1].kind, cdn::live::StreamKind::kAudio);
  EXPECT_EQ(d.pes[1].pts, 1010 * 90);
  EXPECT_EQ(d.pes[2].dts, d.pes[2].pts);
  EXPECT_EQ(d.video_keyframes, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(d.media.width, 64);  // learnt from the SPS the muxer put before the keyframe
  EXPECT_EQ(d.media.height, 64);
  EXPECT_EQ(d.media.sample_rate, 44100);
  EXPECT_EQ(d.media.channels, 2);
}

TEST(TsMuxer, HevcReadBackByTheLiveDemuxer) {
  Pipeline p;
  ASSERT_EQ(p.video(0, hevc_sequence_header()), nullptr);
  ASSERT_EQ(p.video(0, hevc_frame(true, true, 0)), nullptr);
  ASSERT_EQ(p.video(40, hevc_frame(false, false)), nullptr);
  Demuxed d = demux(p.ts);
  EXPECT_EQ(d.stats.crc_errors + d.stats.cc_errors, 0u);
  ASSERT_FALSE(d.programs.empty());
  ASSERT_EQ(d.programs.back().streams.size(), 1u);
  EXPECT_EQ(d.programs.back().streams[0].stream_type, 0x24);
  EXPECT_EQ(d.video_keyframes, (std::vector<bool>{true, false}));
  EXPECT_EQ(d.media.video_codec, cdn::live::Codec::kHevc);
  EXPECT_EQ(d.media.width, 64);
}

TEST(TsMuxer, LargeFramesSpanPacketsAndTimestampsWrapAt33Bits) {
  Pipeline p;
  ASSERT_EQ(p.video(0, avc_sequence_header()), nullptr);
  // 2^33 / 90 ms is about 26.5 hours: a publisher running past it wraps the PTS, which the
  // demuxer unwraps into a continuing timeline.
  const uint32_t near_wrap = uint32_t((uint64_t(1) << 33) / 90) - 1000 - 40;
  ASSERT_EQ(p.video(near_wrap, avc_frame(true, 0)), nullptr);
  ASSERT_EQ(p.video(near_wrap + 40, avc_frame(false, 0)), nullptr);
  ASSERT_EQ(p.video(near_wrap + 80, avc_frame(true, 0)), nullptr);
  Demuxed d = demux(p.ts);
  EXPECT_EQ(d.stats.cc_errors, 0u);
  ASSERT_EQ(d.pes.size(), 3u);
  EXPECT_EQ(d.pes[1].dts - d.pes[0].dts, 40 * 90);
  EXPECT_EQ(d.pes[2].dts - d.pes[1].dts, 40 * 90);
}
