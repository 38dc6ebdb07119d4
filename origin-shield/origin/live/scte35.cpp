#include "origin-shield/origin/live/scte35.h"

#include "origin-shield/origin/live/bit_reader.h"
#include "origin-shield/origin/live/timestamp.h"

namespace cdn::live {
namespace {

std::optional<uint64_t> read_splice_time(BitReader& r) {
  if (r.bit()) {
    r.bits(6);
    return r.bits(33);
  }
  r.bits(7);
  return std::nullopt;
}

// segmentation_type_id values (SCTE 35 table 22) that open or close an avail.
SpliceDirection direction_of_segmentation_type(uint8_t t) {
  switch (t) {
    case 0x22: case 0x30: case 0x32: case 0x34: case 0x36: case 0x38: case 0x3A: case 0x3C:
    case 0x3E: case 0x44: case 0x46:
      return SpliceDirection::kOut;
    case 0x23: case 0x31: case 0x33: case 0x35: case 0x37: case 0x39: case 0x3B: case 0x3D:
    case 0x3F: case 0x45: case 0x47:
      return SpliceDirection::kIn;
    default:
      return SpliceDirection::kNone;
  }
}

// Reads the first segmentation_descriptor (tag 0x02, "CUEI") of the descriptor loop.
void read_segmentation(const uint8_t* p, size_t n, SpliceInfo& info) {
  for (size_t i = 0; i + 2 <= n;) {
    const uint8_t tag = p[i], len = p[i + 1];
    if (i + 2 + len > n) return;
    const uint8_t* d = p + i + 2;
    if (tag == 0x02 && len >= 9 && d[0] == 'C' && d[1] == 'U' && d[2] == 'E' && d[3] == 'I') {
      BitReader r(d + 4, len - 4);
      info.event_id = uint32_t(r.bits(32));
      info.cancel = r.bit();
      r.bits(7);
      if (info.cancel) return;
      const bool program_segmentation = r.bit(), has_duration = r.bit();
      r.bits(6);  // delivery_not_restricted_flag and its flags / reserved
      if (!program_segmentation) {
        const uint32_t count = uint32_t(r.bits(8));
        r.skip(size_t(count) * 48);
      }
      if (has_duration) info.duration = r.bits(40);
      r.bits(8);  // upid type
      r.skip(size_t(r.bits(8)) * 8);
      const uint8_t type = uint8_t(r.bits(8));
      if (r.overrun()) return;
      info.direction = direction_of_segmentation_type(type);
      return;
    }
    i += 2 + len;
  }
}

}  // namespace

std::optional<SpliceInfo> parse_splice_info(const uint8_t* s, size_t size) {
  if (size < 17 || s[0] != 0xFC) return std::nullopt;
  BitReader r(s, size - 4);  // the CRC is not a field
  r.skip(8 + 1 + 1 + 2 + 12);  // table_id, syntax, private, sap_type, section_length
  r.bits(8);                   // protocol_version
  if (r.bit()) return std::nullopt;  // encrypted_packet
  r.bits(6);
  const uint64_t pts_adjustment = r.bits(33);
  r.bits(8);   // cw_index
  r.bits(12);  // tier
  const uint32_t command_length = uint32_t(r.bits(12));
  SpliceInfo info;
  info.command_type = uint8_t(r.bits(8));
  const size_t command_start = r.bit_position() / 8;
  if (info.command_type == kSpliceInsert) {
    info.event_id = uint32_t(r.bits(32));
    info.cancel = r.bit();
    r.bits(7);
    if (!info.cancel) {
      const bool out = r.bit(), program = r.bit(), has_duration = r.bit();
      info.immediate = r.bit();
      r.bits(4);
      info.direction = out ? SpliceDirection::kOut : SpliceDirection::kIn;
      if (program && !info.immediate) info.pts_time = read_splice_time(r);
      if (!program) {
        const uint32_t count = uint32_t(r.bits(8));
        for (uint32_t i = 0; i < count && !r.overrun(); ++i) {
          r.bits(8);
          if (!info.immediate) {
            auto t = read_splice_time(r);
            if (!info.pts_time) info.pts_time = t;  // components share one splice point in HLS
          }
        }
      }
      if (has_duration) {
        info.auto_return = r.bit();
        r.bits(6);
        info.duration = r.bits(33);
      }
      r.bits(16 + 8 + 8);  // unique_program_id, avail_num, avails_expected
    }
  } else if (info.command_type == kTimeSignal) {
    info.pts_time = read_splice_time(r);
  } else {
    return std::nullopt;
  }
  if (r.overrun()) return std::nullopt;
  // command_length 0xFFF is the legacy "unknown"; otherwise trust it to find the descriptors.
  size_t pos = command_length == 0xFFF ? r.bit_position() / 8 : command_start + command_length;
  if (pos + 2 <= size - 4) {
    const size_t loop = size_t(s[pos]) << 8 | s[pos + 1];
    if (pos + 2 + loop <= size - 4 && info.command_type == kTimeSignal)
      read_segmentation(s + pos + 2, loop, info);
  }
  if (info.pts_time) *info.pts_time = (*info.pts_time + pts_adjustment) & (kTimestampWrap - 1);
  return info;
}

}  // namespace cdn::live
