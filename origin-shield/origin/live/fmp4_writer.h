#pragma once
// CMAF/fMP4 writing from access units: the initialization segment (ftyp + moov with one track per
// elementary stream and mvex/trex) and fragments (moof with one traf per track + mdat). Track 1 is
// the video (if any), the next the audio; both on a 90 kHz media timescale, the MPEG-TS clock, so
// decode times pass through unchanged.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "origin-shield/origin/live/psi.h"

namespace cdn::live::fmp4 {

inline constexpr uint32_t kTimescale = 90000;

struct VideoTrack {
  Codec codec = Codec::kH264;  // kH264 (avc1 + avcC) or kHevc (hvc1 + hvcC)
  int width = 0, height = 0;
  std::string vps, sps, pps;  // NAL units without start codes (emulation prevention kept)
};

struct AudioTrack {  // AAC
  int sample_rate = 0;
  int channels = 0;
  std::string audio_specific_config;  // ISO/IEC 14496-3 AudioSpecificConfig
};

struct InitConfig {
  std::optional<VideoTrack> video;
  std::optional<AudioTrack> audio;
  uint32_t audio_id = 0;  // set: the audio track's id (an audio-only file split from a muxed one)
  uint32_t video_track_id() const { return 1; }
  uint32_t audio_track_id() const { return audio_id ? audio_id : video ? 2 : 1; }
};

std::string write_init(const InitConfig& config);

struct Sample {
  uint32_t duration = 0;  // 90 kHz
  uint32_t size = 0;
  bool sync = true;
  int32_t composition_offset = 0;  // PTS − DTS
};

struct TrackRun {
  uint32_t track_id = 0;
  uint64_t base_decode_time = 0;
  std::vector<Sample> samples;
  std::string data;  // the samples' bytes, in order
};

// `styp` that starts every media segment (CMAF: brand cmfs).
std::string write_styp();
// One fragment: moof (mfhd + a traf per run with samples) then mdat.
std::string write_fragment(uint32_t sequence_number, const std::vector<TrackRun>& runs);

}  // namespace cdn::live::fmp4
