// Decision time per query in cdn-geo: locate the viewer (coverage zones, then MaxMind, then the
// default site), order the sites, and pick edges by weighted rendezvous, as SteeringCore::steer
// does for every A query (metrics counted, the answer's addresses picked). Realistic size: 8 sites,
// 64 edges, 10,000 coverage zones and a 4,096-network MaxMind City database written by the
// project's own fixture (tests/unit/geo/fixtures/make_mmdb.pl, MaxMind's Perl writer).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/micro/geo_bench_fixture.h"
#include "geo/coverage_zones.h"

namespace {

using namespace cdn::geo;
using namespace cdn::geo::bench;

// One A query's steering: SteeringCore::steer, as the DNS worker calls it.
void BM_SteerDnsQuery(benchmark::State& state) {
  Fixture& f = fixture();
  if (!f.core) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  auto qs = make_queries(Viewers(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    SteerAnswer a = f.core->steer(qs[i++ % kQueries]);
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_SteerDnsQuery)
    ->ArgName("viewers")
    ->Arg(int(Viewers::Coverage))
    ->Arg(int(Viewers::MaxMind))
    ->Arg(int(Viewers::Default))
    ->Arg(int(Viewers::Mixed));

// An HTTP redirect's decision: keyed by the content path instead of the client prefix.
void BM_DecideHttpByPath(benchmark::State& state) {
  Fixture& f = fixture();
  if (!f.core) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  auto qs = make_queries(Viewers::Mixed);
  std::vector<IpAddr> addrs;
  for (auto& q : qs) addrs.push_back(*ip_from_sockaddr(q.resolver));
  std::vector<std::string> paths;
  for (size_t i = 0; i < 512; ++i)
    paths.push_back("/vod/title" + std::to_string(i) + "/720p/seg42.ts");
  size_t i = 0;
  for (auto _ : state) {
    Decision d = f.core->decide(addrs[i % kQueries], AddressSource::Viewer, paths[i % paths.size()],
                                AF_INET, true);
    benchmark::DoNotOptimize(d);
    ++i;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_DecideHttpByPath);

// Coverage lookups alone in a file that mixes prefix lengths as an operator's does (/12 to /32,
// nested): 10,000 zones over 21 lengths; the viewers sit in random zones.
void BM_CoverageLookupMixedLengths(benchmark::State& state) {
  std::string text;
  std::vector<IpAddr> viewers;
  uint32_t x = 12345;
  auto next = [&x] { return x = x * 1664525u + 1013904223u; };
  for (int i = 0; i < 10000; ++i) {
    int len = 12 + int(next() % 21);
    uint32_t net = (0x0a000000u | (next() & 0x00ffffffu)) & (len == 32 ? ~0u : ~(~0u >> len));
    char buf[64];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u/%d fra\n", net >> 24, (net >> 16) & 255, (net >> 8) & 255, net & 255, len);
    text += buf;
    if (i % 10 == 0) {
      IpAddr a;
      a.family = AF_INET;
      a.hi = uint64_t(net | (next() & (len == 32 ? 0u : (~0u >> len)))) << 32;
      viewers.push_back(a);
    }
  }
  auto zones = CoverageZones::parse(text, "bench.txt", {"fra"});
  if (!zones.ok()) {
    state.SkipWithError(zones.error().message.c_str());
    return;
  }
  size_t i = 0;
  for (auto _ : state) {
    auto hit = zones->lookup(viewers[i++ % viewers.size()]);
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_CoverageLookupMixedLengths);

}  // namespace
