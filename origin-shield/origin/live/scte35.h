#pragma once
// SCTE-35 splice_info_section: the facts an HLS packager needs from splice_insert and time_signal
// (with its segmentation_descriptor): direction, splice time, break duration, event id.
#include <cstddef>
#include <cstdint>
#include <optional>

namespace cdn::live {

enum class SpliceDirection : uint8_t { kNone, kOut, kIn };

struct SpliceInfo {
  uint8_t command_type = 0;  // 0x05 splice_insert, 0x06 time_signal
  uint32_t event_id = 0;
  bool cancel = false;
  bool immediate = false;
  SpliceDirection direction = SpliceDirection::kNone;
  std::optional<uint64_t> pts_time;  // 33-bit, pts_adjustment applied
  std::optional<uint64_t> duration;  // 90 kHz: break_duration or segmentation_duration
  bool auto_return = false;
};

inline constexpr uint8_t kSpliceInsert = 0x05;
inline constexpr uint8_t kTimeSignal = 0x06;

// `section` is a complete splice_info_section whose CRC was verified. Encrypted sections and
// other commands give nullopt (nothing to signal in a playlist).
std::optional<SpliceInfo> parse_splice_info(const uint8_t* section, size_t size);

}  // namespace cdn::live
