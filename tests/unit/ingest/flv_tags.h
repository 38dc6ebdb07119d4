#pragma once
// FLV tag bodies as RTMP publishers send them, built from real encoder output (media_samples.h),
// and a TS reader over the live library's demuxer, for the ingest tests.
#include <string>
#include <vector>

#include "origin-shield/origin/live/ts_demuxer.h"

namespace ingest_test {

std::string be(uint32_t v, int n);
std::string with_length(const std::string& nal, int length_size = 4);

// H.264: AVC sequence header (SPS/PPS of the sample), a keyframe (its IDR slice) and an inter
// frame (a made-up non-IDR slice), with composition time `cts` ms.
std::string avc_sequence_header();
std::string avc_frame(bool key, int32_t cts);
// HEVC over Enhanced RTMP ('hvc1'): SequenceStart with VPS/SPS/PPS, CodedFrames (with CTS) or
// CodedFramesX.
std::string hevc_sequence_header();
std::string hevc_frame(bool key, bool with_cts, int32_t cts = 0);
// AAC LC, 44.1 kHz, stereo.
std::string aac_sequence_header();
std::string aac_frame(const std::string& raw);

// Everything the demuxer saw in a TS byte stream.
struct Demuxed : cdn::live::TsDemuxer::Listener {
  std::vector<cdn::live::PmtInfo> programs;
  std::vector<cdn::live::PesStart> pes;
  std::vector<bool> video_keyframes;
  cdn::live::DemuxStats stats;
  cdn::live::MediaInfo media;

  void on_program(const cdn::live::PmtInfo& p, std::string_view, std::string_view) override {
    programs.push_back(p);
  }
  void on_pes_start(const cdn::live::PesStart& s) override { pes.push_back(s); }
  void on_video_access_unit(uint16_t, bool keyframe, bool) override {
    video_keyframes.push_back(keyframe);
  }
  void on_splice(const cdn::live::SpliceInfo&, std::string_view) override {}
  void on_packet(const uint8_t*, cdn::live::PacketRole) override {}
};
Demuxed demux(const std::string& ts);

}  // namespace ingest_test
