// Hot-path costs of a cache lookup: building the key, and memory-tier hits and inserts.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/cache/key.h"
#include "common/cache/memory_tier.h"

namespace {

using namespace cdn::cache;

const std::vector<std::string> kExcluded = {"token", "session"};

ObjectRef make_object(const CacheKey& key, size_t body_bytes) {
  auto o = std::make_shared<CachedObject>();
  o->key_text = key.text;
  o->meta.headers = {{"Content-Type", "video/mp2t"}, {"Cache-Control", "max-age=3600"}};
  o->meta.body_size = body_bytes;
  o->body.append(cdn::make_bytes(std::string(body_bytes, 'x')));
  return o;
}

std::vector<CacheKey> make_keys(size_t n) {
  std::vector<CacheKey> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i)
    keys.push_back(make_key("edge.example.com", "/vod/movie/720p/seg" + std::to_string(i) + ".ts", "", {}));
  return keys;
}

void BM_MakeKey(benchmark::State& state) {
  for (auto _ : state) {
    CacheKey k = make_key("Edge.Example.com", "/live/channel1/720p/segment_000123.ts",
                          "token=eyJhbGciOiJIUzI1NiJ9.abc.def&b=2&a=1&session=xyz", kExcluded);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_MakeKey);

// One tier shared by every thread of the multi-threaded run, as the event loops share it.
MemoryTier& shared_tier() {
  static MemoryTier tier(256 << 20);
  return tier;
}
const std::vector<CacheKey>& shared_keys() {
  static const std::vector<CacheKey> keys = [] {
    auto k = make_keys(10000);
    for (const auto& key : k) shared_tier().put(key, make_object(key, 1024));
    return k;
  }();
  return keys;
}

void BM_MemoryGetHit(benchmark::State& state) {
  const auto& keys = shared_keys();
  size_t i = size_t(state.thread_index()) * 7919;
  for (auto _ : state) {
    ObjectRef o = shared_tier().get(keys[i++ % keys.size()]);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_MemoryGetHit);
BENCHMARK(BM_MemoryGetHit)->Threads(2);

void BM_MemoryPut(benchmark::State& state) {
  MemoryTier tier(64 << 20);  // smaller than the key set: steady state includes evictions
  auto keys = make_keys(100000);
  std::vector<ObjectRef> objects;
  objects.reserve(keys.size());
  for (const auto& k : keys) objects.push_back(make_object(k, 1024));
  size_t i = 0;
  for (auto _ : state) {
    size_t n = i++ % keys.size();
    tier.put(keys[n], objects[n]);
  }
  state.counters["evictions"] = double(tier.stats().evictions);
}
BENCHMARK(BM_MemoryPut);

}  // namespace
