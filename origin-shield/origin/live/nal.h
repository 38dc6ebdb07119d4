#pragma once
// H.264 / HEVC elementary stream inspection: where an access unit's first slice is and whether it
// is a random access point (H.264 IDR, HEVC IRAP), plus the SPS facts a master playlist needs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "origin-shield/origin/live/psi.h"

namespace cdn::live {

struct VideoParams {
  int width = 0;
  int height = 0;
  std::string codec_string;  // RFC 6381: avc1.PPCCLL, hvc1.<profile>.<compat>.<tier><level>.<c>
};

// `nal` starts at the NAL header; emulation prevention bytes are still in place.
std::optional<VideoParams> parse_h264_sps(const uint8_t* nal, size_t size);
std::optional<VideoParams> parse_hevc_sps(const uint8_t* nal, size_t size);

// Scans the start of a PES payload, packet by packet, until the first VCL NAL unit. Only the few
// bytes before the first slice are looked at, so the cost per frame is small and independent of
// the frame size. Start codes split across packets are handled.
class NalScanner {
 public:
  static constexpr size_t kMaxSpsBytes = 512;
  static constexpr size_t kMaxScanBytes = 256 * 1024;  // give up on a PES with no slice

  void reset(Codec codec) {
    codec_ = codec;
    zeros_ = 0;
    scanned_ = 0;
    want_header_ = capturing_sps_ = done_ = keyframe_ = saw_sps_ = false;
  }
  // True once the first slice has been seen or the scan gave up.
  bool feed(const uint8_t* p, size_t n);
  bool done() const { return done_; }
  bool keyframe() const { return keyframe_; }
  bool saw_sps() const { return saw_sps_; }
  // The last SPS seen in this access unit (valid when saw_sps()).
  const std::vector<uint8_t>& sps() const { return sps_; }

 private:
  void on_nal_header(uint8_t b);
  void end_sps_capture(size_t start_code_bytes);

  Codec codec_ = Codec::kUnknown;
  int zeros_ = 0;
  size_t scanned_ = 0;
  bool want_header_ = false;
  bool capturing_sps_ = false;
  bool done_ = false;
  bool keyframe_ = false;
  bool saw_sps_ = false;
  std::vector<uint8_t> sps_;
};

}  // namespace cdn::live
