// Per-request costs of reading a query: the edge takes the token out of every request's query
// (query_without) and reads admin parameters by name (query_value); iterating must not allocate.
#include <benchmark/benchmark.h>

#include <string>

#include "common/http/query.h"

namespace {

constexpr std::string_view kQuery =
    "token=eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ2aWV3ZXIiLCJleHAiOjk5OTk5OTk5OTl9.c2ln"
    "&b=2&a=1&_HLS_msn=120&_HLS_part=3&session=xyz";

void BM_IteratePairs(benchmark::State& state) {
  for (auto _ : state) {
    size_t n = 0;
    for (const cdn::http::QueryParam& p : cdn::http::QueryParams(kQuery)) n += p.value.size();
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_IteratePairs);

void BM_DecodeIntoReusedBuffer(benchmark::State& state) {
  std::string buf;
  for (auto _ : state) {
    for (const cdn::http::QueryParam& p : cdn::http::QueryParams(kQuery)) p.decoded_value(buf);
    benchmark::DoNotOptimize(buf);
  }
}
BENCHMARK(BM_DecodeIntoReusedBuffer);

void BM_WithoutToken(benchmark::State& state) {
  for (auto _ : state) {
    std::string q = cdn::http::query_without(kQuery, {"token", "URISigningPackage"});
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK(BM_WithoutToken);

void BM_ValueByName(benchmark::State& state) {
  for (auto _ : state) {
    auto v = cdn::http::query_value(kQuery, "_HLS_msn");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_ValueByName);

}  // namespace
