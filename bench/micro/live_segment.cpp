// Demux + segment throughput in MB/s of TS input (issue 3 asks for ≥ 500 MB/s on one core).
// Input: a 30 s ffmpeg-made 720p H.264 + AAC stream, generated once into /tmp.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "origin-shield/origin/live/segmenter.h"

namespace {

const std::string& input() {
  static const std::string data = [] {
    const char* path = "/tmp/cdn-bench-live-30s.ts";
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      const int rc = std::system(
          "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi "
          "-i sine=frequency=1000:sample_rate=48000 -pix_fmt yuv420p -c:v libx264 -preset "
          "ultrafast -b:v 5M -g 60 -keyint_min 60 -sc_threshold 0 -c:a aac -t 30 -f mpegts "
          "/tmp/cdn-bench-live-30s.ts");
      if (rc != 0) return std::string();
    }
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }();
  return data;
}

// Chunk size as the ingest would deliver it: 1316 bytes is one UDP datagram (7 packets),
// 64 KiB a typical HTTP read.
void BM_DemuxSegment(benchmark::State& state) {
  const std::string& ts = input();
  if (ts.empty()) {
    state.SkipWithError("no input: ffmpeg failed");
    return;
  }
  const size_t chunk = size_t(state.range(0));
  size_t segments = 0, out_bytes = 0;
  for (auto _ : state) {
    cdn::live::Segmenter seg({}, [&](cdn::live::Segment&& s) {
      benchmark::DoNotOptimize(s.data.data());
      ++segments;
      out_bytes += s.data.size();
    });
    for (size_t i = 0; i < ts.size(); i += chunk) seg.feed(std::string_view(ts).substr(i, chunk));
    seg.flush();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(ts.size()));
  state.counters["segments"] = double(segments) / double(state.iterations());
  state.counters["input_MB"] = double(ts.size()) / 1e6;
  state.counters["output_MB"] = double(out_bytes) / 1e6 / double(state.iterations());
}
BENCHMARK(BM_DemuxSegment)->Arg(1316)->Arg(65536)->Unit(benchmark::kMillisecond);

}  // namespace
