#pragma once
// SCTE-35 splice points as HLS date ranges: an OUT opens an ad break (EXT-X-DATERANGE with
// SCTE35-OUT and PLANNED-DURATION, EXT-X-CUE-OUT), an IN closes it with the same ID and START-DATE
// (RFC 8216 §4.3.2.7.1), and a break with a planned duration closes by itself (EXT-X-CUE-IN).
// Shared by the TS playlist and the fMP4 (LL-HLS) playlist.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/hls/playlist.h"
#include "origin-shield/origin/live/splice_cues.h"

namespace cdn::live {

// The ad break in progress across segments.
struct OpenBreak {
  std::string id;
  int64_t start_ms = 0;
  std::optional<double> planned_s;
};

// Sets the date ranges and cue tags of a segment starting at `pdt_ms` (its program date-time)
// with `cues` on its boundary; `open_break` carries the break across segments.
void apply_splice_dates(const std::vector<Cue>& cues, int64_t pdt_ms, hls::Segment& s,
                        std::optional<OpenBreak>& open_break);

}  // namespace cdn::live
