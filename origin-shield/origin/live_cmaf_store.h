#pragma once
// A rendition's fMP4 output in the store, so a restarted origin serves the live window (and an
// ended stream) of fMP4 HLS and DASH as before: init segments, media segments (muxed and per
// track, with their timeline facts) and the fMP4 playlist's state.
// Keys: "fi/<channel>/<rendition>/<20-digit id>"  → an init segment
//       "fs/<channel>/<rendition>/<20-digit msn>" → a media segment
//       "fp/<channel>/<rendition>"                → the playlist state + DASH clock
// Values are length-prefixed fields (what decode accepts is checked: a damaged record is skipped).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "origin-shield/origin/live_cmaf_output.h"

namespace cdn::origin {

struct CmafStoredState {
  std::string playlist;  // LlhlsPlaylist::serialize()
  int64_t media_zero_ms = 0;
};

// What a restarted rendition gets back.
struct CmafRestored {
  std::map<uint64_t, live::CmafInit> inits;
  std::map<uint64_t, CmafStoredSegment> segments;
  std::optional<CmafStoredState> state;
};

std::string cmaf_key(char kind, std::string_view channel, std::string_view rendition,
                     std::optional<uint64_t> number);
// What the store keeps of a packaged segment (its bytes move).
CmafStoredSegment stored_segment(live::CmafSegment&& s);
std::string encode_cmaf_init(const live::CmafInit& init);
std::optional<live::CmafInit> decode_cmaf_init(std::string_view v);
std::string encode_cmaf_segment(const CmafStoredSegment& s);
std::optional<CmafStoredSegment> decode_cmaf_segment(std::string_view v);
std::string encode_cmaf_state(const CmafStoredState& s);
std::optional<CmafStoredState> decode_cmaf_state(std::string_view v);

}  // namespace cdn::origin
