// Bytes → ParamSetRepeater → segmenter. The first byte picks the chunk size, so packets and
// held access units split across feed() calls are explored too. Nothing is ever dropped: the
// output is at least the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "origin-shield/origin/ingest/param_set_repeater.h"
#include "origin-shield/origin/live/segmenter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + size_t(data[0]) * 7;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  cdn::origin::ingest::ParamSetRepeater rep;
  cdn::live::SegmenterConfig cfg;
  cfg.max_segment_bytes = 1 << 20;
  cdn::live::Segmenter seg(cfg, [](cdn::live::Segment&& s) {
    if (s.data.size() % 188 != 0) std::abort();
  });
  std::string out;
  size_t total = 0;
  for (size_t i = 0; i < in.size(); i += chunk) {
    rep.feed(in.substr(i, chunk), out);
    total += out.size();
    seg.feed(out);
    out.clear();
  }
  rep.flush(out);
  total += out.size();
  seg.feed(out);
  seg.flush();
  if (total < in.size()) std::abort();
  return 0;
}
