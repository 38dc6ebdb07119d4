#pragma once
// Access units → CMAF: an init segment, then media segments made of parts, one moof/mdat fragment
// per part. Segments start on a keyframe once the target duration is reached (the TS segmenter's
// rule); parts are cut on any frame so that none exceeds the part target, and a part that starts
// on a keyframe is independent. The first track (video, or audio for audio-only streams) is the
// clock; audio frames go into the part their decode time falls in, once their duration is known
// (the next frame's decode time), so decode times run on without gaps across parts and segments.
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/bytes.h"
#include "origin-shield/origin/live/cmaf_access_units.h"
#include "origin-shield/origin/live/splice_cues.h"

namespace cdn::live {

struct CmafConfig {
  double target_duration_s = 2.0;
  double part_target_s = 0.5;
  // CMAF chunks (one moof/mdat each) within a part, cut on frames so that none exceeds this; a
  // part's chunks are sent as they are written (preload hints, low-latency DASH). 0: one per part.
  double chunk_target_s = 0;
  double jump_threshold_s = 5.0;  // a decode time jump this large (or backwards) is a discontinuity
  uint64_t first_sequence = 0;
  bool first_discontinuity = false;  // resuming after a restart or an input takeover
  // Also one file per track (DASH): per-track init segments, part fragments and segments.
  bool per_track = false;
};

struct CmafInit {
  uint64_t id = 0;     // = the sequence of the first segment that needs it
  Bytes muxed;         // every track
  Bytes video, audio;  // per_track: one track each (null when the stream has no such track)
};

// One moof/mdat fragment of the part being written, out before the part is complete.
struct CmafChunk {
  uint64_t sequence = 0;    // of its segment
  uint32_t part_index = 0;  // the index its part will have
  Bytes data;               // moof + mdat, every track
  Bytes video, audio;       // per_track: one fragment per track (null: no samples)
};

struct CmafPart {
  uint64_t sequence = 0;  // media sequence number of its segment
  uint32_t index = 0;     // within the segment
  double duration_s = 0;
  bool independent = false;
  bool discontinuity = false;  // of its segment
  uint64_t init_id = 0;        // of its segment
  Bytes data;                  // its chunks' moof + mdat fragments
  Bytes video, audio;     // per_track: the same part as one fragment per track (null: no samples)
  std::vector<Cue> cues;  // index 0: the SCTE-35 splice points on its segment's start
};

struct CmafSegment {
  uint64_t sequence = 0;
  double duration_s = 0;
  bool discontinuity = false;  // a new timeline (or new codec parameters) starts here
  uint64_t init_id = 0;        // which init segment it needs (CmafOutput::on_init's id)
  int64_t first_dts = 0;
  int64_t duration_ticks = 0;  // 90 kHz, exact (the next segment's first_dts − this one's)
  // per_track: the audio file's own first decode time and duration (audio frames do not end
  // where video frames do).
  int64_t audio_first_dts = 0, audio_duration_ticks = 0;
  uint32_t parts = 0;
  std::vector<Cue> cues;  // SCTE-35 splice points on its start (segments are cut there)
  Bytes data;             // styp + its parts' fragments
  Bytes video, audio;     // per_track: styp + that track's fragments
};

class CmafPackager {
 public:
  struct Output {
    // A new init segment, needed from segment `id` (= its first segment's sequence) on.
    std::function<void(const CmafInit&)> on_init;
    std::function<void(const CmafChunk&)> on_chunk;  // before its part's on_part
    std::function<void(const CmafPart&)> on_part;
    std::function<void(CmafSegment&&)> on_segment;
  };

  CmafPackager(CmafConfig config, Output out);

  void feed(std::string_view ts_bytes);
  // End of stream: the part and segment in progress are completed. Feeding may go on afterwards
  // (the next segment is then a discontinuity). `input_complete`: a file read to its end, whose
  // last video access unit is whole (AccessUnitReader::flush).
  void flush(bool input_complete = false);

  uint64_t next_sequence() const { return next_sequence_; }
  const AccessUnitStats& unit_stats() const { return reader_.stats(); }
  const MediaInfo& media() const { return reader_.media(); }

 private:
  struct Queued {
    AccessUnit au;
    int64_t duration = -1;  // known once the next unit of its track arrives
  };

  void on_unit(AccessUnit&& au);
  bool tracks_known() const;
  void hold(AccessUnit&& au);
  void on_primary(AccessUnit&& au);
  void refresh_init();
  void open_segment(int64_t dts);
  void cut_chunk(int64_t end_dts, bool all_audio);
  void cut_part(int64_t end_dts, bool all_audio = false);
  void close_segment();
  void end_timeline(int64_t last_duration);
  int64_t nominal_duration(bool video) const;

  CmafConfig config_;
  Output out_;
  AccessUnitReader reader_;
  int64_t target_ticks_, part_ticks_, chunk_ticks_, jump_ticks_;

  bool primary_video_ = true;
  std::string init_;  // the last init segment written
  uint64_t init_id_ = 0;
  uint32_t audio_track_id_ = 2;
  uint32_t fragment_number_ = 0;

  bool open_ = false;  // a segment is in progress
  bool pending_discontinuity_ = false;
  uint64_t next_sequence_;
  int64_t seg_start_ = 0, part_start_ = 0, chunk_start_ = 0, part_end_ = 0;
  bool part_independent_ = false;
  uint32_t part_index_ = 0;
  std::vector<Bytes> seg_parts_;
  std::string part_data_, part_video_, part_audio_;  // the part's chunks so far
  std::string seg_video_, seg_audio_;  // per_track: the segment's track fragments so far
  int64_t seg_audio_t_ = 0, seg_audio_d_ = 0;
  double seg_duration_s_ = 0;
  bool seg_discontinuity_ = false;
  std::vector<Cue> seg_cues_;
  CueQueue cues_;

  std::deque<Queued> video_q_, audio_q_;
  std::vector<AccessUnit> held_;  // waiting for every track's parameters
  int64_t last_primary_dts_ = 0;
};

}  // namespace cdn::live
