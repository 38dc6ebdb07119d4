#pragma once
// Hand-made MPEG-TS pieces for tests: sections with correct CRC, PMTs, SCTE-35 splice commands,
// and a re-demux of a segment that records what a player would see first.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "origin-shield/origin/live/ts_demuxer.h"

namespace cdn::live::testing {

class BitWriter {
 public:
  void put(uint64_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) {
      if (nbits_ % 8 == 0) bytes_.push_back(0);
      if ((value >> i) & 1) bytes_.back() |= uint8_t(0x80 >> (nbits_ % 8));
      ++nbits_;
    }
  }
  std::string bytes() const { return std::string(bytes_.begin(), bytes_.end()); }

 private:
  std::vector<uint8_t> bytes_;
  size_t nbits_ = 0;
};

// Sets section_length and appends the CRC to a section body that starts at table_id.
std::string finish_section(std::string section_without_crc);

struct PmtStream {
  uint8_t stream_type;
  uint16_t pid;
};
std::string make_pmt_section(uint16_t program, uint16_t pcr_pid, const std::vector<PmtStream>&,
                             uint8_t version = 0);
std::string make_pat_section(uint16_t program, uint16_t pmt_pid, uint8_t version = 0);
std::string make_splice_insert(uint32_t event_id, bool out, std::optional<uint64_t> pts,
                               std::optional<uint64_t> duration, bool cancel = false);
std::string make_time_signal(uint32_t event_id, uint64_t pts, uint8_t segmentation_type,
                             std::optional<uint64_t> duration);

struct Packet {
  uint16_t pid;
  bool pusi;
};
std::vector<Packet> packet_headers(const std::string& ts);

// What re-demuxing one segment shows.
struct SegmentProbe {
  std::vector<PacketRole> first_roles;  // roles of the first packets, in order
  std::optional<bool> first_video_keyframe;
  bool first_pes_is_video = false;
  std::vector<int64_t> video_pts;
  int64_t frame_ticks = 0;
  uint64_t cc_errors = 0;
  std::optional<PmtInfo> program;
};
SegmentProbe probe_segment(const std::string& ts);

// PES starts of a whole stream, per PID.
struct PesLog {
  std::vector<PesStart> pes;
  std::vector<bool> video_keyframes;
};
PesLog log_pes(const std::string& ts);

}  // namespace cdn::live::testing
