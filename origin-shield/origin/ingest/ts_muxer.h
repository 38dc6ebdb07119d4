#pragma once
// Access units to MPEG-TS: one program with a video PID (H.264 0x1B or HEVC 0x24, carrying the
// PCR) and an AAC audio PID (ADTS, 0x0F). PAT and PMT (with CRC) go before the first access unit,
// before every video keyframe (so a segment cut there starts with them) and whenever the set of
// streams changes (new PMT version). PES headers carry PTS, and DTS when it differs.
#include <cstdint>
#include <string>

#include "origin-shield/origin/ingest/flv_media.h"

namespace cdn::origin::ingest {

class TsMuxer {
 public:
  static constexpr uint16_t kPmtPid = 0x1000, kVideoPid = 0x100, kAudioPid = 0x101;

  // `video`/`audio`: the streams the PMT lists (the FLV sequence headers seen so far).
  void write(const AccessUnit& au, EsCodec video, bool audio, std::string& out);

 private:
  void write_psi(std::string& out);
  void packetize(uint16_t pid, const std::string& pes, bool random_access, bool pcr,
                 uint64_t pcr_base, std::string& out);
  uint8_t& cc(uint16_t pid);

  EsCodec video_ = EsCodec::None;
  bool audio_ = false;
  bool psi_written_ = false;
  uint8_t pmt_version_ = 0;
  uint8_t cc_pat_ = 0, cc_pmt_ = 0, cc_video_ = 0, cc_audio_ = 0;
  std::string pes_;  // reused
};

}  // namespace cdn::origin::ingest
