#pragma once
// Keyframe-aligned HLS segmenter over raw MPEG-TS bytes (any chunking).
//
// Cutting rule: a segment ends at the first keyframe (H.264 IDR / HEVC IRAP access unit of the
// primary video PID; for audio-only streams any audio PES) whose PTS is at least the target
// duration after the segment's first PTS. Earlier cuts happen only for a discontinuity (timestamp
// jump or program change: cut at the next keyframe) and for a due SCTE-35 splice point (cut at the
// first keyframe at or after it, so the cue sits on a segment boundary). A segment without a
// keyframe for max_duration_s (or max_segment_bytes) is cut anyway and says so.
//
// Output: every segment starts with the segmenter's own PAT and PMT packets (the original sections,
// re-packetized with continuity counters that run on across segments; the input's PSI packets
// are dropped, as is everything outside the program, e.g. SDT) followed by the keyframe's packets. Duration = next segment's first PTS − this
// one's; at a discontinuity or flush it is last PTS + one frame − first PTS.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin-shield/origin/live/splice_cues.h"
#include "origin-shield/origin/live/ts_demuxer.h"

namespace cdn::live {

struct Segment {
  uint64_t sequence = 0;
  double duration_s = 0;
  int64_t first_pts = 0;  // unwrapped 90 kHz
  bool discontinuity = false;
  bool starts_with_keyframe = true;  // false only after a forced cut
  std::string data;                  // TS packets
  std::vector<Cue> cues;             // splice points at the start of this segment
};

struct SegmenterConfig {
  double target_duration_s = 2.0;
  double jump_threshold_s = 5.0;  // forward timestamp jump that counts as a discontinuity
  double max_duration_s = 0;      // forced cut without keyframe; 0 = max(30, 5 × target)
  size_t max_segment_bytes = size_t(64) << 20;
  uint64_t first_sequence = 0;
  bool first_discontinuity = false;  // e.g. resuming a rendition after restart or takeover
};

struct SegmenterStats {
  uint64_t segments = 0;
  uint64_t discontinuities = 0;
  uint64_t forced_cuts = 0;
  uint64_t cues = 0;
  uint64_t dropped_cues = 0;  // pending at flush or cancelled
  // Video segments whose first access unit carries no SPS: a player joining there cannot decode
  // until the encoder repeats its parameter sets (configure the encoder to repeat them).
  uint64_t segments_without_sps = 0;
  double max_duration_s = 0;  // longest segment emitted: compare with EXT-X-TARGETDURATION
};

class Segmenter : private TsDemuxer::Listener {
 public:
  using Sink = std::function<void(Segment&&)>;

  Segmenter(SegmenterConfig config, Sink sink);

  void feed(std::string_view ts_bytes);
  // End of stream: emits the segment in progress. Feeding may continue afterwards; the next
  // segment is then marked as a discontinuity.
  void flush();

  const MediaInfo& media() const { return demuxer_.media(); }
  const SegmenterStats& stats() const { return stats_; }
  DemuxStats demux_stats() const { return demuxer_.stats(); }
  uint64_t next_sequence() const { return next_sequence_; }

 private:
  void on_program(const PmtInfo& pmt, std::string_view pat, std::string_view pmt_section) override;
  void on_pes_start(const PesStart& pes) override;
  void on_video_access_unit(uint16_t pid, bool keyframe, bool has_sps) override;
  void on_splice(const SpliceInfo& info, std::string_view section) override;
  void on_packet(const uint8_t* packet, PacketRole role) override;

  bool is_jump(int64_t delta) const { return delta > jump_ticks_ || delta < 0; }
  void track_other_stream(const PesStart& pes);
  void decide(bool keyframe);
  void cut(size_t offset, int64_t next_first_pts, bool keyframe);
  void drop_new_timeline_prefix();
  void open(size_t offset, int64_t first_pts, bool keyframe);
  void emit(int64_t end_pts);

  SegmenterConfig config_;
  Sink sink_;
  TsDemuxer demuxer_;
  SegmenterStats stats_;
  int64_t target_ticks_;
  int64_t jump_ticks_;
  int64_t max_ticks_;

  std::string pat_section_, pmt_section_;
  uint16_t pmt_pid_ = 0;
  uint8_t pat_cc_ = 0, pmt_cc_ = 0;
  uint16_t primary_pid_ = 0xFFFF;
  std::vector<uint16_t> other_program_pids_;  // PCR-only and unrecognised ES PIDs are kept
  bool primary_is_video_ = false;

  Segment cur_;
  bool started_ = false;
  int64_t cur_max_pts_ = 0;
  size_t last_size_ = 0;

  bool pes_pending_ = false;  // primary PES started, keyframe decision not made yet
  size_t pes_offset_ = 0;     // where that PES starts in cur_.data
  int64_t pes_pts_ = 0;
  bool pes_has_sps_ = false;

  bool has_last_ts_ = false;
  int64_t last_ts_ = 0;
  int64_t frame_ticks_ = 0;
  bool pending_discontinuity_;
  bool cut_asap_ = false;
  // Where the new timeline's packets begin in cur_.data once a jump or program change was seen.
  // They precede the new encoder's first keyframe and are dropped like a stream's first
  // non-keyframe packets, so the old segment keeps only its own timeline and counters.
  std::optional<size_t> new_timeline_offset_;
  struct StreamClock {
    uint16_t pid;
    int64_t last_dts;
  };
  std::vector<StreamClock> clocks_;  // non-primary PES streams, for jump detection

  CueQueue cues_;
  uint64_t next_sequence_;
};

}  // namespace cdn::live
