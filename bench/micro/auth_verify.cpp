// Token verifications per second per algorithm, and with the verified-token cache.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "common/auth/jwks.h"
#include "common/auth/jws.h"
#include "common/auth/verifier.h"

namespace {

using namespace cdn::auth;

constexpr int64_t kNow = 1700000000;
const char* kClaims =
    R"({"iss":"https://pay.example","aud":"cdn.example","sub":"viewer-123456","jti":"3f1c9a0e-77b2",)"
    R"("iat":1699999990,"exp":1700003600,"path":"/vod/movie1/","climit":3,"cdniets":120})";

std::shared_ptr<const KeySet> keys() {
  static const auto set = [] {
    std::string jwks = "{\"keys\":[" + *generate_jwk(Alg::ES256, "es") + "," +
                       *generate_jwk(Alg::EdDSA, "ed") + "," + *generate_jwk(Alg::HS256, "hs") + "]}";
    return std::make_shared<const KeySet>(std::move(*parse_jwks(jwks)));
  }();
  return set;
}

void verify(benchmark::State& state, const char* kid, size_t cache_entries) {
  Verifier v(keys(), VerifyPolicy{"https://pay.example", "cdn.example"}, cache_entries);
  std::string token = *sign(kClaims, *keys()->find(kid));
  TokenRequest req{"/vod/movie1/720p/seg_00042.ts", "203.0.113.7", kNow};
  for (auto _ : state) {
    auto r = v.verify(token, req);
    if (!r.ok()) state.SkipWithError(r.rejection().reason.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_VerifyHS256(benchmark::State& s) { verify(s, "hs", 0); }
void BM_VerifyES256(benchmark::State& s) { verify(s, "es", 0); }
void BM_VerifyEd25519(benchmark::State& s) { verify(s, "ed", 0); }
void BM_VerifyCachedES256(benchmark::State& s) { verify(s, "es", 1000); }

BENCHMARK(BM_VerifyHS256);
BENCHMARK(BM_VerifyES256);
BENCHMARK(BM_VerifyEd25519);
BENCHMARK(BM_VerifyCachedES256);
BENCHMARK(BM_VerifyCachedES256)->Threads(2);

}  // namespace
