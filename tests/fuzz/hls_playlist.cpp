// Bytes → media and master parsers (a parsed playlist must survive write → parse unchanged) and
// the edge's URI rewriter (which must keep every line that is not a URI line or URI attribute).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/hls/parser.h"
#include "common/hls/rewrite.h"
#include "common/hls/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto media = cdn::hls::parse_media(text); media.ok()) {
    const std::string written = cdn::hls::write(*media);
    auto again = cdn::hls::parse_media(written);
    if (!again.ok() || cdn::hls::write(*again) != written) std::abort();
  }
  if (auto master = cdn::hls::parse_master(text); master.ok()) {
    const std::string written = cdn::hls::write(*master);
    auto again = cdn::hls::parse_master(written);
    if (!again.ok() || cdn::hls::write(*again) != written) std::abort();
  }
  const std::string out = cdn::hls::rewrite_uris(text, "token=abc&exp=1");
  if (out.size() < text.size()) std::abort();
  if (cdn::hls::rewrite_uris(text, "") != text) std::abort();
  return 0;
}
