#include "common/auth/signing_key.h"

#include <fstream>
#include <sstream>

#include "common/auth/json.h"
#include "common/auth/jwks.h"

namespace cdn::auth {

Result<std::shared_ptr<const Key>> parse_signing_key(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc || !doc->as_object()) return make_error("not a JSON object (a JWK or a JWKS)");
  std::string jwks = doc->find("keys") ? std::string(text) : "{\"keys\":[" + std::string(text) + "]}";
  auto set = parse_jwks(jwks);
  if (!set) return set.error();
  if (set->empty()) return make_error("no key");
  // Key is move-only and KeySet immutable: keep the set alive behind an aliasing pointer.
  auto holder = std::make_shared<const KeySet>(std::move(set.value()));
  const Key& k = holder->keys().front();
  if (!k.can_sign()) return make_error("key " + k.kid() + " has no private part: it cannot sign");
  return std::shared_ptr<const Key>(holder, &k);
}

Result<std::shared_ptr<const Key>> load_signing_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto k = parse_signing_key(ss.str());
  if (!k) return make_error(path + ": " + k.error().message);
  return k;
}

}  // namespace cdn::auth
