// Demux + segment throughput in MB/s of TS input (issue 3 asks for ≥ 500 MB/s on one core).
// Input: a 30 s ffmpeg-made 720p H.264 + AAC stream, generated once into /tmp.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/live_bench_input.h"
#include "origin-shield/origin/live/segmenter.h"

namespace {

// Chunk size as the ingest would deliver it: 1316 bytes is one UDP datagram (7 packets),
// 64 KiB a typical HTTP read.
void BM_DemuxSegment(benchmark::State& state) {
  const std::string& ts = cdn::bench::live_input();
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
