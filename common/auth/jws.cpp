#include "common/auth/jws.h"

#include "common/auth/base64url.h"
#include "common/auth/json.h"

namespace cdn::auth {

Result<std::string> sign(std::string_view claims_json, const Key& key) {
  auto claims = json::parse(claims_json);
  if (!claims) return make_error("claims: " + claims.error().message);
  if (!claims->as_object()) return make_error("claims: not a JSON object");
  std::string header = "{\"alg\":" + json::quote(alg_name(key.alg())) +
                       ",\"typ\":\"JWT\",\"kid\":" + json::quote(key.kid()) + "}";
  std::string input = base64url_encode(header) + "." + base64url_encode(claims_json);
  auto sig = key.sign(input);
  if (!sig) return sig.error();
  return input + "." + base64url_encode(*sig);
}

bool split_compact(std::string_view token, CompactParts& out) {
  size_t a = token.find('.');
  if (a == std::string_view::npos) return false;
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return false;
  out.header = token.substr(0, a);
  out.payload = token.substr(a + 1, b - a - 1);
  out.signature = token.substr(b + 1);
  out.signing_input = token.substr(0, b);
  // An empty signature is let through so that an unsecured JWS is reported as alg-none.
  return !out.header.empty() && !out.payload.empty();
}

}  // namespace cdn::auth
