// libFuzzer: arbitrary bytes as a viewer token (and as the pieces a token decodes into).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "common/auth/address.h"
#include "common/auth/base64url.h"
#include "common/auth/claims.h"
#include "common/auth/extract.h"
#include "common/auth/json.h"
#include "common/auth/jwks.h"
#include "common/auth/jws.h"
#include "common/auth/verifier.h"

namespace {

using namespace cdn::auth;

const Verifier& verifier() {
  static const Verifier v = [] {
    std::string jwks = "{\"keys\":[" + *generate_jwk(Alg::ES256, "es") + "," +
                       *generate_jwk(Alg::EdDSA, "ed") + "," + *generate_jwk(Alg::HS256, "hs") + "]}";
    auto set = parse_jwks(jwks);
    return Verifier(std::make_shared<const KeySet>(std::move(*set)), VerifyPolicy{"iss", "aud"}, 64);
  }();
  return v;
}

// The input as a payload, really signed: reaches the claim checks (time arithmetic at the int64
// limits with the widest leeway, derived sids) that a forged token never gets to.
struct Signed {
  std::shared_ptr<const KeySet> keys;
  Verifier narrow, wide;
};

const Signed& signed_checks() {
  static const Signed s = [] {
    auto set = parse_jwks("{\"keys\":[" + *generate_jwk(Alg::HS256, "hs") + "]}");
    auto keys = std::make_shared<const KeySet>(std::move(*set));
    VerifyPolicy narrow{"", "", 30, 4096, false};
    VerifyPolicy wide{"", "", std::numeric_limits<int64_t>::max(), 4096, false};
    return Signed{keys, Verifier(keys, narrow, 0), Verifier(keys, wide, 64)};
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = verifier().verify(in, TokenRequest{"/vod/a/b.ts", "192.0.2.1", 1700000000});
  if (r.ok()) __builtin_trap();  // nobody can forge a signature by fuzzing
  // Past the signature check the payload is trusted input, but still worth hardening.
  if (auto claims = parse_claims(in); claims.ok()) (void)claims->scope.allows("/vod/a/b.ts");
  if (auto doc = cdn::auth::json::parse(in); doc.ok()) (void)cdn::auth::json::serialize(*doc);
  if (auto bytes = base64url_decode(in)) {
    if (base64url_encode(*bytes) != in) __builtin_trap();  // strict decoding is canonical
  }
  (void)parse_jwks(in);
  (void)extract_token(in, in, in, "token");
  (void)strip_param(in, "token");
  (void)address_place(in, 24, 56);
  if (size <= 2048) {
    const Signed& s = signed_checks();
    if (auto t = sign(in, *s.keys->find("hs"))) {
      for (int64_t now : {std::numeric_limits<int64_t>::min(), int64_t(0), int64_t(1700000000),
                          std::numeric_limits<int64_t>::max()}) {
        for (const Verifier* v : {&s.narrow, &s.wide}) {
          auto r = v->verify(*t, TokenRequest{"/vod/a/b.ts", "192.0.2.1", now});
          if (r.ok() && r.claims().sid.empty()) __builtin_trap();  // every admitted token has a session id
        }
      }
    }
  }
  return 0;
}
