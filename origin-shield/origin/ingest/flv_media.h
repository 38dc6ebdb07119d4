#pragma once
// FLV audio/video tag bodies (as RTMP carries them) to elementary-stream access units:
// - H.264: the AVC sequence header's SPS/PPS are kept; length-prefixed NAL units become Annex B
//   with an access unit delimiter, and SPS/PPS go before every keyframe that lacks them (an
//   encoder sends them once, a segment must start decodable).
// - HEVC over Enhanced RTMP (FourCC 'hvc1'): the same with VPS/SPS/PPS.
// - AAC: the AudioSpecificConfig becomes the ADTS header of every raw frame.
// Anything else is "unsupported-codec"; a malformed tag is "bad-flv-tag".
#include <cstdint>
#include <string>
#include <string_view>

namespace cdn::origin::ingest {

enum class EsCodec { None, H264, Hevc, Aac };

struct AccessUnit {
  EsCodec codec = EsCodec::None;
  bool keyframe = false;
  int64_t dts_ms = 0, pts_ms = 0;
  std::string data;  // Annex B or ADTS
};

class FlvMedia {
 public:
  // Returns nullptr and sets `out` (out.codec None when the tag yields no access unit, e.g. a
  // sequence header), or an error reason.
  const char* video(uint32_t timestamp, std::string_view tag, AccessUnit& out);
  const char* audio(uint32_t timestamp, std::string_view tag, AccessUnit& out);

  EsCodec video_codec() const { return video_codec_; }
  bool has_audio() const { return aac_ready_; }

 private:
  const char* video_config(EsCodec codec, std::string_view record);
  const char* video_frame(EsCodec codec, bool keyframe, int64_t dts, int32_t cts,
                          std::string_view nalus, AccessUnit& out);

  EsCodec video_codec_ = EsCodec::None;
  std::string param_sets_;  // Annex B: SPS/PPS (H.264) or VPS/SPS/PPS (HEVC)
  int nal_length_size_ = 4;
  bool aac_ready_ = false;
  uint8_t adts_profile_ = 0, adts_rate_index_ = 0, adts_channels_ = 0;
};

}  // namespace cdn::origin::ingest
