#pragma once
// SCTE-35 splice points between the demuxer and the segment boundaries they fall on, shared by
// the TS segmenter and the CMAF packager: a splice waits here until the segment that starts at
// (or just after) its splice time opens; a cancel drops the event's pending splice.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin-shield/origin/live/scte35.h"

namespace cdn::live {

struct Cue {
  SpliceDirection direction = SpliceDirection::kOut;
  uint32_t event_id = 0;
  int64_t pts = 0;  // splice time on the unwrapped timeline
  std::optional<double> duration_s;
  std::string section;  // the splice_info_section, for SCTE35-OUT/IN=0x...
};

class CueQueue {
 public:
  // `last_ts`: the stream's latest timestamp (where an immediate splice lands); `placed`: the
  // splice time on the unwrapped timeline, when the section gives one.
  void on_splice(const SpliceInfo& info, std::string_view section, int64_t last_ts,
                 std::optional<int64_t> placed);
  // Whether a splice is due at or before `pts` (a segment should start there).
  bool due(int64_t pts) const;
  // The splices a segment starting at `first_pts` carries; they leave the queue.
  std::vector<Cue> take_due(int64_t first_pts);
  void drop_all();  // end of input

  uint64_t cues() const { return cues_; }
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<Cue> pending_;
  uint64_t cues_ = 0, dropped_ = 0;
};

}  // namespace cdn::live
