#pragma once
// Serving a rendition's fMP4 output: its playlist (LL-HLS query parameters _HLS_msn, _HLS_part,
// _HLS_skip), init segments, segments and parts, from the published CmafSnapshot. Decides only;
// LiveServing::serve_held parks what must wait.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "origin-shield/origin/live_serving.h"

namespace cdn::origin {

struct CmafRequest {
  const http::Request& req;
  const LiveRendition& rendition;
  std::vector<LiveRendition*> siblings;  // the channel's renditions (for rendition reports)
  int64_t segment_max_age_s = 0;
};

// `file`: the playlist's name as requested (rendition reports name the siblings' same file).
LiveAnswer cmaf_playlist(const CmafRequest& c, const std::string& file, bool may_hold = true);
LiveAnswer cmaf_file(const CmafRequest& c, std::string_view file);
// /live/<channel>/manifest.mpd over the renditions with DASH on.
LiveAnswer dash_manifest(const http::Request& req, const std::vector<LiveRendition*>& renditions);
// /live/time: the origin's clock for DASH's UTCTiming (ISO 8601, never cached).
LiveAnswer time_answer();

}  // namespace cdn::origin
