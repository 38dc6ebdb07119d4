#pragma once
// MPEG-TS in, MPEG-TS out: puts the latest H.264 SPS/PPS (HEVC VPS/SPS/PPS) before every video
// keyframe that lacks them. Many encoders send parameter sets once, at the start of the stream;
// a segment cut at a later keyframe would then not decode on its own (a player joining live, a
// seek). The segmenter cuts only at keyframes, so repeating them there makes every segment
// start decodable.
//
// How: at each video PES start the packets are held (every PID, in order) until the access
// unit's first slice shows whether it is a keyframe and which parameter sets precede it; at most
// kMaxHeldPackets, then they pass unchanged. A keyframe without them gets the stored ones after
// its access unit delimiter: the held video packets' payloads are re-flowed (each keeps its own
// header and adaptation field, so PCR and random-access flags stay), the overflow goes into
// extra packets padded with adaptation-field stuffing, and the video PID's continuity counters
// run on from there for the rest of the stream. Everything else passes byte for byte.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "origin-shield/origin/live/psi.h"
#include "origin-shield/origin/live/ts_packet.h"

namespace cdn::origin::ingest {

struct ParamSetStats {
  uint64_t keyframes = 0;
  uint64_t repeated = 0;  // keyframes that got the stored parameter sets
  uint64_t unknown = 0;   // keyframes without them and none seen yet (left as they are)
  uint64_t given_up = 0;  // access units whose first slice was not found within the hold
};

class ParamSetRepeater {
 public:
  static constexpr size_t kMaxHeldPackets = 256;     // 47 KiB: far more than any slice prefix
  static constexpr size_t kMaxParamSetBytes = 4096;  // per kind: a real SPS is tens of bytes

  // Appends the rewritten stream to `out` (whole packets; bytes that are not packets pass as
  // they are).
  void feed(std::string_view bytes, std::string& out);
  // End of input: emits what is held and a trailing partial packet.
  void flush(std::string& out);
  const ParamSetStats& stats() const { return stats_; }

 private:
  void on_packet(const uint8_t* p, std::string& out);
  void on_psi(const uint8_t* p, const live::TsHeader& h, std::string& out);
  void start_holding(const uint8_t* p, size_t payload_offset, std::string& out);
  // Looks for the first slice in what is held; releases when found.
  void scan(std::string& out);
  // Emits the held packets, with `insert` put at `at` (an offset in es_) when not empty.
  void release(std::string& out, size_t at = 0, std::string_view insert = {});
  void emit_video(const uint8_t* p, std::string& out);
  void append_stuffed_packet(std::string_view payload, std::string& out);
  // Reads the NAL units before the first slice at es_[first_slice]: stores parameter sets and
  // decides what goes where.
  void on_access_unit(size_t first_slice, bool keyframe, std::string& out);

  std::string carry_;  // a packet split across feed() calls
  live::SectionAssembler pat_asm_{1024}, pmt_asm_{1024};
  uint16_t pmt_pid_ = 0xFFFF, video_pid_ = 0xFFFF;
  live::Codec codec_ = live::Codec::kUnknown;
  uint8_t cc_shift_ = 0;       // added to the video PID's continuity counters
  uint8_t last_video_cc_ = 0;  // as emitted

  bool holding_ = false;
  std::string held_;                // whole packets
  std::vector<uint32_t> video_at_;  // offsets in held_ of the video packets
  std::string es_;                  // held video payload, from the PES header on
  size_t es_start_ = 0;             // where the ES begins in es_ (after the PES header)
  size_t scanned_ = 0;

  std::string vps_, sps_, pps_;  // Annex B, the latest of each kind
  ParamSetStats stats_;
};

}  // namespace cdn::origin::ingest
