#pragma once
// Strict about what changes meaning (EXTINF, TARGETDURATION, sequence numbers, a URI without its
// EXTINF, mixing master and media tags), tolerant about what does not (CRLF, BOM, blank lines,
// trailing spaces, unknown tags). Input comes from upstreams we do not control, hence the bounds.
#include <cstddef>
#include <string_view>

#include "common/hls/playlist.h"
#include "common/util/result.h"

namespace cdn::hls {

struct ParseLimits {
  size_t max_bytes = 16u << 20;
  size_t max_line_bytes = 64u << 10;
  size_t max_segments = 100000;
  size_t max_variants = 1000;  // variants + media + i-frame variants
};

Result<MediaPlaylist> parse_media(std::string_view text, const ParseLimits& limits = {});
Result<MasterPlaylist> parse_master(std::string_view text, const ParseLimits& limits = {});

}  // namespace cdn::hls
