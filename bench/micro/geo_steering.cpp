// Decision time per query in cdn-geo: locate the viewer (coverage zones, then MaxMind, then the
// default site), order the sites, and pick edges by weighted rendezvous, as SteeringCore::steer
// does for every A query (metrics counted, the answer's addresses picked). Realistic size: 8 sites,
// 64 edges, 10,000 coverage zones and a 4,096-network MaxMind City database written by the
// project's own fixture (tests/unit/geo/fixtures/make_mmdb.pl, MaxMind's Perl writer).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro/geo_bench_fixture.h"

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

}  // namespace
