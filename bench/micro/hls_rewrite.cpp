// Token propagation rewrite on the edge, in MB/s of playlist text.
#include <benchmark/benchmark.h>

#include <string>

#include "common/hls/rewrite.h"

namespace {

std::string media_playlist(int segments) {
  std::string p = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1000\n"
                  "#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"key?id=7\",IV=0x01\n";
  for (int i = 0; i < segments; ++i) {
    p += "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T05:25:33.120Z\n#EXTINF:2.000,\n";
    p += "https://cdn.example.com/live/channel1/720p/" + std::to_string(1000 + i) + ".ts\n";
  }
  return p;
}

void BM_RewriteUris(benchmark::State& state) {
  const std::string pl = media_playlist(int(state.range(0)));
  for (auto _ : state) {
    std::string out = cdn::hls::rewrite_uris(pl, "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2In0.sig");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(pl.size()));
}
BENCHMARK(BM_RewriteUris)->Arg(6)->Arg(1000);

}  // namespace
