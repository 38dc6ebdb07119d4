// ParamSetRepeater on crafted MPEG-TS: real H.264/HEVC NAL units (media_samples.h) muxed by the
// ingest TsMuxer as an encoder that sends its parameter sets only with the first keyframe would,
// then read back by the live segmenter: what the origin stores.
#include "origin-shield/origin/ingest/param_set_repeater.h"

#include <gtest/gtest.h>

#include "origin-shield/origin/ingest/ts_muxer.h"
#include "origin-shield/origin/live/segmenter.h"
#include "tests/unit/ingest/media_samples.h"

using namespace cdn::origin::ingest;
using ingest_samples::kH264Nals;
using ingest_samples::kHevcNals;

namespace {

const std::string kSc("\0\0\0\1", 4);
const std::string kH264Aud = kSc + std::string("\x09\xF0", 2);
const std::string kHevcAud = kSc + std::string("\x46\x01\x50", 3);

// `seconds` of 25 fps video, a keyframe every second; parameter sets before the first only,
// or before every keyframe with `every_keyframe`.
std::string encoder_output(EsCodec codec, int seconds, bool every_keyframe) {
  const bool hevc = codec == EsCodec::Hevc;
  std::string params, key;
  for (size_t i = 0; i + 1 < (hevc ? kHevcNals : kH264Nals).size(); ++i)
    params += kSc + (hevc ? kHevcNals : kH264Nals)[i];
  key = kSc + (hevc ? kHevcNals : kH264Nals).back();
  const std::string inter = kSc + (hevc ? std::string("\x02\x01\xD0\x12\x34", 5)
                                        : std::string("\x41\x9A\x02\x03\x04", 5));
  const std::string aud = hevc ? kHevcAud : kH264Aud;
  TsMuxer mux;
  std::string ts;
  for (int f = 0; f < seconds * 25; ++f) {
    AccessUnit au;
    au.codec = codec;
    au.keyframe = f % 25 == 0;
    au.dts_ms = au.pts_ms = f * 40;
    au.data = aud + (au.keyframe ? ((f == 0 || every_keyframe) ? params : "") + key : inter);
    mux.write(au, codec, false, ts);
  }
  return ts;
}

std::string repeat(const std::string& in, size_t chunk, ParamSetRepeater& r) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += chunk) r.feed(std::string_view(in).substr(i, chunk), out);
  r.flush(out);
  return out;
}

// The first video PES's elementary stream in a segment (PID 0x100).
std::string first_video_es(const std::string& ts) {
  std::string es;
  bool in = false;
  for (size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const auto* p = reinterpret_cast<const uint8_t*>(ts.data() + off);
    cdn::live::TsHeader h;
    if (!cdn::live::decode_ts_header(p, h) || h.pid != TsMuxer::kVideoPid || !h.has_payload)
      continue;
    std::string_view pl(reinterpret_cast<const char*>(p) + h.payload_offset,
                        188 - h.payload_offset);
    if (h.payload_unit_start) {
      if (in) break;
      in = true;
      pl.remove_prefix(9 + uint8_t(pl[8]));
    }
    if (in) es.append(pl);
  }
  return es;
}

struct Segmented {
  std::vector<cdn::live::Segment> segments;
  cdn::live::SegmenterStats stats;
  cdn::live::DemuxStats demux;
};

Segmented segment(const std::string& ts) {
  Segmented out;
  cdn::live::SegmenterConfig cfg;
  cfg.target_duration_s = 1.0;
  cdn::live::Segmenter seg(cfg,
                           [&](cdn::live::Segment&& s) { out.segments.push_back(std::move(s)); });
  seg.feed(ts);
  seg.flush();
  out.stats = seg.stats();
  out.demux = seg.demux_stats();
  return out;
}

}  // namespace

TEST(ParamSetRepeater, TheCraftedInputHasParameterSetsOnlyAtTheStart) {
  const Segmented plain = segment(encoder_output(EsCodec::H264, 4, false));
  ASSERT_EQ(plain.segments.size(), 4u);
  EXPECT_EQ(plain.stats.segments_without_sps, 3u);  // what the repeater is for
}

TEST(ParamSetRepeater, EveryH264SegmentStartsWithAudSpsPpsAndTheSlice) {
  const std::string in = encoder_output(EsCodec::H264, 4, false);
  ParamSetRepeater r;
  const std::string out = repeat(in, 1000, r);
  EXPECT_EQ(r.stats().keyframes, 4u);
  EXPECT_EQ(r.stats().repeated, 3u);
  EXPECT_EQ(r.stats().unknown, 0u);
  EXPECT_EQ(r.stats().given_up, 0u);
  ASSERT_EQ(out.size() % 188, 0u);
  const Segmented s = segment(out);
  ASSERT_EQ(s.segments.size(), 4u);
  EXPECT_EQ(s.stats.segments_without_sps, 0u);
  EXPECT_EQ(s.demux.cc_errors, 0u);  // counters renumbered after the inserted packets
  EXPECT_EQ(s.demux.pes_errors, 0u);
  const std::string want = kH264Aud + kSc + kH264Nals[0] + kSc + kH264Nals[1] + kSc + kH264Nals[2];
  for (auto& seg : s.segments) {
    const std::string es = first_video_es(seg.data);
    // The delimiter stays first; the whole slice follows the parameter sets intact.
    EXPECT_EQ(es.substr(0, want.size()), want) << "segment " << seg.sequence;
  }
}

TEST(ParamSetRepeater, ChunkingDoesNotChangeTheOutput) {
  const std::string in = encoder_output(EsCodec::H264, 3, false);
  ParamSetRepeater a, b, c;
  const std::string whole = repeat(in, in.size(), a);
  EXPECT_EQ(repeat(in, 1, b), whole);
  EXPECT_EQ(repeat(in, 187, c), whole);
  EXPECT_GT(whole.size(), in.size());
}

TEST(ParamSetRepeater, HevcGetsVpsSpsPps) {
  const std::string in = encoder_output(EsCodec::Hevc, 3, false);
  EXPECT_EQ(segment(in).stats.segments_without_sps, 2u);
  ParamSetRepeater r;
  const Segmented s = segment(repeat(in, 4096, r));
  EXPECT_EQ(r.stats().repeated, 2u);
  ASSERT_EQ(s.segments.size(), 3u);
  EXPECT_EQ(s.stats.segments_without_sps, 0u);
  EXPECT_EQ(s.demux.cc_errors, 0u);
  std::string want = kHevcAud;
  for (auto& nal : kHevcNals) want += kSc + nal;
  for (auto& seg : s.segments) EXPECT_EQ(first_video_es(seg.data).substr(0, want.size()), want);
}

TEST(ParamSetRepeater, AStreamThatRepeatsThemPassesByteForByte) {
  const std::string in = encoder_output(EsCodec::H264, 3, true);
  ParamSetRepeater r;
  EXPECT_EQ(repeat(in, 777, r), in);
  EXPECT_EQ(r.stats().keyframes, 3u);
  EXPECT_EQ(r.stats().repeated, 0u);
}

TEST(ParamSetRepeater, KeyframesBeforeAnyParameterSetAreLeftAlone) {
  // Joined mid-stream: the first keyframes come without parameter sets and none are known.
  std::string in = encoder_output(EsCodec::H264, 2, false);
  std::string no_params = in;
  const std::string sps = kSc + kH264Nals[0];
  const size_t at = no_params.find(sps);
  ASSERT_NE(at, std::string::npos);
  // The same length, so packets stay whole: the SPS and PPS become filler data (type 12).
  for (size_t i = at + 4; i < at + sps.size(); ++i) no_params[i] = char(0xFF);
  no_params[at + 4] = 0x0C;
  const size_t pps = no_params.find(kSc + kH264Nals[1]);
  ASSERT_NE(pps, std::string::npos);
  no_params[pps + 4] = 0x0C;
  ParamSetRepeater r;
  EXPECT_EQ(repeat(no_params, 1316, r), no_params);
  EXPECT_EQ(r.stats().unknown, 2u);
}

TEST(ParamSetRepeater, AVideoPesWithoutASliceIsHeldOnlyBriefly) {
  // A PES of garbage (no start codes) much longer than the hold: it passes unchanged.
  TsMuxer mux;
  std::string in;
  AccessUnit au;
  au.codec = EsCodec::H264;
  au.keyframe = true;
  au.data = std::string(ParamSetRepeater::kMaxHeldPackets * 188 * 2, '\x55');
  mux.write(au, EsCodec::H264, false, in);
  ParamSetRepeater r;
  std::string out;
  r.feed(in.substr(0, in.size() - 188), out);
  // Everything but what arrived after the hold gave up is already out.
  EXPECT_GE(out.size(), in.size() - 188 - ParamSetRepeater::kMaxHeldPackets * 188);
  r.flush(out);
  EXPECT_EQ(out, in.substr(0, in.size() - 188));
  EXPECT_EQ(r.stats().given_up, 1u);
}

TEST(ParamSetRepeater, BytesThatAreNotPacketsPassThrough) {
  const std::string in = encoder_output(EsCodec::H264, 2, false);
  const std::string garbage = "not a ts packet";
  ParamSetRepeater r;
  std::string out;
  r.feed(garbage, out);
  r.feed(in, out);
  r.flush(out);
  EXPECT_EQ(out.substr(0, garbage.size()), garbage);
  EXPECT_EQ(r.stats().repeated, 1u);
  EXPECT_EQ(segment(out).stats.segments_without_sps, 0u);
}
