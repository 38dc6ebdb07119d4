// Bytes → the edge's DASH MPD rewriter: it must never shrink its input, must leave it unchanged
// for an empty query, and what it writes must rewrite again without failing (no state leaks from
// a malformed tail).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/hls/mpd_rewrite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string out = cdn::hls::rewrite_mpd_uris(text, "token=a&b=$1");
  if (out.size() < text.size()) std::abort();
  if (cdn::hls::rewrite_mpd_uris(text, "") != text) std::abort();
  if (cdn::hls::rewrite_mpd_uris(out, "t=2").size() < out.size()) std::abort();
  (void)cdn::hls::looks_like_xml(text);
  return 0;
}
