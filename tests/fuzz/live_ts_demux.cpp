// Bytes → segmenter → live playlist. The first byte picks the chunk size so the fuzzer also
// explores packets and resync windows split across feed() calls.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "origin-shield/origin/live/live_playlist.h"
#include "origin-shield/origin/live/segmenter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + size_t(data[0]) * 7;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  cdn::live::LivePlaylist playlist({});
  int64_t now = 1795000000000;
  cdn::live::SegmenterConfig cfg;
  cfg.max_segment_bytes = 1 << 20;
  cdn::live::Segmenter seg(cfg, [&](cdn::live::Segment&& s) {
    if (s.data.size() % 188 != 0 || s.duration_s < 0) std::abort();
    playlist.append(s, now += 2000);
  });
  for (size_t i = 0; i < in.size(); i += chunk) seg.feed(in.substr(i, chunk));
  seg.flush();
  (void)playlist.live_playlist();
  auto state = cdn::live::LivePlaylist::deserialize(playlist.serialize(), {});
  if (!state.ok()) std::abort();
  return 0;
}
