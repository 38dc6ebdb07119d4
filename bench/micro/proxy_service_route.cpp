// Per-request cost of choosing the delivery service (ServiceRouter's lookup): a host in a table
// of 64 services, each with an exact name and a wildcard. The lookup must not allocate, and must
// stay flat as services are added (hash maps, not a list scan).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "common/proxy/service_table.h"

namespace {

cdn::proxy::ServiceTable table_of(int services) {
  std::vector<std::unique_ptr<cdn::proxy::Service>> v;
  for (int i = 0; i < services; ++i) {
    auto s = std::make_unique<cdn::proxy::Service>();
    s->name = "svc" + std::to_string(i);
    s->hosts = {"video" + std::to_string(i) + ".example.com",
                "*.owner" + std::to_string(i) + ".example.net"};
    v.push_back(std::move(s));
  }
  return cdn::proxy::ServiceTable(std::move(v), "");
}

void run(benchmark::State& state, std::string_view host) {
  cdn::proxy::ServiceTable t = table_of(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(t.find(host));
}

void BM_ExactHost(benchmark::State& state) {
  run(state, "video7.example.com");
}
void BM_WildcardHost(benchmark::State& state) {
  run(state, "edge-12.live.owner7.example.net");
}
void BM_UnknownHost(benchmark::State& state) {
  run(state, "nobody.example.org");
}
BENCHMARK(BM_ExactHost)->Arg(1)->Arg(64);
BENCHMARK(BM_WildcardHost)->Arg(1)->Arg(64);
BENCHMARK(BM_UnknownHost)->Arg(1)->Arg(64);

}  // namespace
