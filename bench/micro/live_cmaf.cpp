// CMAF/fMP4 packaging throughput in MB/s of TS input, on the same input as bench_live_segment
// (the TS segmenter): demux, PES reassembly, Annex B → length-prefixed NAL units, ADTS split, and
// the moof/mdat of every part and the styp + parts of every segment.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/live_bench_input.h"
#include "origin-shield/origin/live/cmaf_packager.h"

namespace {

// Arguments: chunk size (1316 = one UDP datagram, 65536 = an HTTP read), part target in ms, CMAF
// chunks per part (the origin cuts 4, sent as written; 0: one fragment per part).
void BM_CmafPackage(benchmark::State& state) {
  const std::string& ts = cdn::bench::live_input();
  if (ts.empty()) {
    state.SkipWithError("no input: ffmpeg failed");
    return;
  }
  const size_t chunk = size_t(state.range(0));
  cdn::live::CmafConfig cfg;
  cfg.part_target_s = double(state.range(1)) / 1000;
  cfg.chunk_target_s = state.range(2) > 0 ? cfg.part_target_s / double(state.range(2)) : 0;
  size_t segments = 0, parts = 0, out_bytes = 0;
  for (auto _ : state) {
    cdn::live::CmafPackager::Output out;
    out.on_part = [&](const cdn::live::CmafPart& p) {
      benchmark::DoNotOptimize(p.data->data());
      ++parts;
    };
    out.on_segment = [&](cdn::live::CmafSegment&& s) {
      ++segments;
      out_bytes += s.data->size();
    };
    cdn::live::CmafPackager p(cfg, std::move(out));
    for (size_t i = 0; i < ts.size(); i += chunk) p.feed(std::string_view(ts).substr(i, chunk));
    p.flush();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(ts.size()));
  state.counters["segments"] = double(segments) / double(state.iterations());
  state.counters["parts"] = double(parts) / double(state.iterations());
  state.counters["output_MB"] = double(out_bytes) / 1e6 / double(state.iterations());
}
BENCHMARK(BM_CmafPackage)
    ->Args({1316, 333, 4})
    ->Args({65536, 333, 4})
    ->Args({65536, 333, 0})
    ->Args({65536, 1000, 4})
    ->Unit(benchmark::kMillisecond);

}  // namespace
