// Purge by surrogate key over 100,000 tagged objects, through ProxyCore::purge (the admin route's
// and the fleet feed's path): every object is in the memory tier, the disk tier (RocksDB) and the
// surrogate-key index; each carries "all" and one of 100 group keys. Measures the purge of one
// group (1,000 objects) and of "all" (100,000), and reports the index's memory (its own estimate,
// and the process's RSS growth while the index is filled).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/cache/disk_tier.h"
#include "common/cache/memory_tier.h"
#include "common/cache/surrogate_index.h"
#include "common/cache/surrogate_keys.h"
#include "common/proxy/proxy_core.h"

namespace {

using namespace cdn;

constexpr int kObjects = 100'000;
constexpr int kGroups = 100;

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

struct Cache {
  std::string dir;
  cache::MemoryTier memory{size_t(2) << 30};
  std::unique_ptr<cache::DiskTier> disk;
  cache::SurrogateIndex index;
  std::unique_ptr<proxy::ProxyCore> core;
  long index_rss_kib = 0;

  Cache() {
    char tmpl[] = "/tmp/cdn-bench-purge-XXXXXX";
    dir = mkdtemp(tmpl);
    cache::DiskOptions o;
    o.path = dir + "/db";
    disk = std::move(cache::DiskTier::open(o).value());
    core = std::make_unique<proxy::ProxyCore>(proxy::ProxyOptions{}, &memory, disk.get(), nullptr,
                                              nullptr);
    core->set_surrogate_index(&index);
    std::vector<cache::ObjectRef> objects;
    objects.reserve(kObjects);
    for (int i = 0; i < kObjects; ++i) {
      auto o = std::make_shared<cache::CachedObject>();
      o->key_text = "bench.example/vod/title-" + std::to_string(i % kGroups) + "/seg-" +
                    std::to_string(i) + ".ts";
      o->meta.headers = {{"Content-Type", "video/mp2t"},
                         {"Surrogate-Key", "all group-" + std::to_string(i % kGroups)}};
      o->meta.response_time_ms = o->meta.request_time_ms = 1'700'000'000'000;
      o->meta.fresh_lifetime_s = 1'000'000'000;
      o->body.append(make_bytes(std::string(512, 'x')));
      o->meta.body_size = o->body.size;
      objects.push_back(o);
    }
    for (auto& o : objects) {
      memory.put(cache::CacheKey{o->key_text, cache::hash64(o->key_text)}, o);
      disk->put_async(o);
    }
    disk->wait_idle();
    long before = rss_kib();
    for (auto& o : objects) index.set(o->key_text, cache::surrogate_keys(o->meta.headers));
    index_rss_kib = rss_kib() - before;
  }
  ~Cache() {
    core.reset();
    disk.reset();
    std::filesystem::remove_all(dir);
  }
};

void purge_key(benchmark::State& state, const char* key, int expected) {
  for (auto _ : state) {
    state.PauseTiming();
    Cache c;  // a fresh, full cache each time: the purge empties what it purges
    state.counters["index_bytes_estimate"] = double(c.index.bytes());
    state.counters["index_rss_growth_bytes"] = double(c.index_rss_kib) * 1024;
    state.counters["indexed_objects"] = double(c.index.objects());
    state.ResumeTiming();
    size_t n = c.core->purge({proxy::PurgeKind::Key, key, false, {}});
    state.PauseTiming();
    // Each object is one entry in memory and one on disk.
    if (n != size_t(2 * expected)) state.SkipWithError("purged the wrong number of entries");
    state.counters["purged_entries"] = double(n);
    state.ResumeTiming();
  }
}

void BM_PurgeOneGroupOf100k(benchmark::State& state) {
  purge_key(state, "group-7", kObjects / kGroups);
}
void BM_PurgeAllOf100k(benchmark::State& state) {
  purge_key(state, "all", kObjects);
}

BENCHMARK(BM_PurgeOneGroupOf100k)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_PurgeAllOf100k)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
