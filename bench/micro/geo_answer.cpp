// The whole DNS answer path of cdn-geo per query, bytes in -> bytes out, as a UDP worker runs it:
// libknot parses the query, the ECS option is read, the zone looked up, SteeringCore::steer
// decides (locate, order sites, rendezvous, metrics), and libknot writes the answer (with the ECS
// echo when asked) into the worker's reused buffer. The data are bench_geo_steering's (8 sites,
// 64 edges, 10,000 coverage zones, a 4,096-network MaxMind database). What is left of a real
// query's cost is the system calls and the kernel's UDP path (bench/geo, `./cdn bench geo`).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro/geo_bench_fixture.h"
#include "geo/dns/dns_server.h"
#include "tests/unit/geo_dns/dns_wire.h"

namespace {

using namespace cdn::geo;
using namespace cdn::geo::bench;

// "video.cdn.bench A", with EDNS and an ECS option for the /24 of `viewer` when asked.
std::string a_query(const sockaddr_storage& viewer, bool ecs) {
  testing::QuerySpec q{.name = "video.cdn.bench"};
  if (ecs) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&viewer);
    const auto* b = reinterpret_cast<const uint8_t*>(&in->sin_addr);
    q.edns = true;
    q.ecs = testing::ecs_data(1, 24, 0, {b[0], b[1], b[2]});
  }
  return testing::build_query(q);
}

// Plain: each query from a different resolver address (coverage zone, MaxMind or default as the
// argument says). ECS: the resolver is fixed and the option carries the viewer's /24.
void run(benchmark::State& state, bool ecs) {
  Fixture& f = fixture();
  if (!f.core) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  ZoneConfig zone = make_zone_config(*f.cfg);
  auto viewers = make_queries(Viewers(state.range(0)));
  std::vector<std::string> queries;
  std::vector<sockaddr_storage> from;
  sockaddr_storage resolver = to_sockaddr(*parse_ip("100.64.0.1"));
  for (auto& v : viewers) {
    queries.push_back(a_query(v.resolver, ecs));
    from.push_back(ecs ? resolver : v.resolver);
  }
  std::string out;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    size_t k = i++ % queries.size();
    answer_query_into(zone, *f.core, reinterpret_cast<const uint8_t*>(queries[k].data()),
                      queries[k].size(), from[k], false, 1232, out);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() <= 12) state.SkipWithError("no answer records");
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["answer_bytes"] = double(bytes) / double(std::max<size_t>(1, i));
}

void BM_AnswerQuery(benchmark::State& state) {
  run(state, false);
}
BENCHMARK(BM_AnswerQuery)
    ->ArgName("viewers")
    ->Arg(int(Viewers::Coverage))
    ->Arg(int(Viewers::MaxMind))
    ->Arg(int(Viewers::Default))
    ->Arg(int(Viewers::Mixed));

void BM_AnswerQueryEcs(benchmark::State& state) {
  run(state, true);
}
// The fixture's coverage zones are private addresses, which an ECS option may not carry (ignored):
// the ECS case is the MaxMind one.
BENCHMARK(BM_AnswerQueryEcs)->ArgName("viewers")->Arg(int(Viewers::MaxMind));

}  // namespace
