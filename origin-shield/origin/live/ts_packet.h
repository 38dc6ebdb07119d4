#pragma once
// The fixed 4-byte TS packet header and adaptation field (ISO/IEC 13818-1 §2.4.3), decoded in place.
#include <cstddef>
#include <cstdint>

namespace cdn::live {

inline constexpr size_t kTsPacketSize = 188;
inline constexpr uint8_t kTsSyncByte = 0x47;
inline constexpr uint16_t kPatPid = 0x0000;
inline constexpr uint16_t kNullPid = 0x1FFF;
inline constexpr uint16_t kMaxPid = 0x1FFF;

struct TsHeader {
  uint16_t pid = 0;
  bool transport_error = false;
  bool payload_unit_start = false;
  bool has_payload = false;
  bool discontinuity_indicator = false;  // from the adaptation field
  bool random_access = false;
  bool has_pcr = false;
  uint8_t continuity_counter = 0;
  uint8_t payload_offset = 4;  // where the payload starts inside the packet
  uint64_t pcr_base = 0;       // 90 kHz part of the PCR
};

// False when the header is self-contradictory (adaptation field longer than the packet).
inline bool decode_ts_header(const uint8_t* p, TsHeader& h) {
  h.transport_error = p[1] & 0x80;
  h.payload_unit_start = p[1] & 0x40;
  h.pid = uint16_t(((p[1] & 0x1F) << 8) | p[2]);
  const uint8_t afc = (p[3] >> 4) & 3;
  h.continuity_counter = p[3] & 0x0F;
  h.has_payload = afc & 1;
  h.discontinuity_indicator = h.random_access = h.has_pcr = false;
  h.payload_offset = 4;
  if (afc == 0) return false;  // reserved value
  if (afc & 2) {
    const uint8_t len = p[4];
    if (len > 183) return false;
    h.payload_offset = uint8_t(5 + len);
    if (len > 0) {
      const uint8_t flags = p[5];
      h.discontinuity_indicator = flags & 0x80;
      h.random_access = flags & 0x40;
      if ((flags & 0x10) && len >= 7) {
        h.has_pcr = true;
        h.pcr_base = (uint64_t(p[6]) << 25) | (uint64_t(p[7]) << 17) | (uint64_t(p[8]) << 9) |
                     (uint64_t(p[9]) << 1) | (p[10] >> 7);
      }
    }
    if (h.has_payload && len == 183) h.has_payload = false;
  }
  return true;
}

}  // namespace cdn::live
