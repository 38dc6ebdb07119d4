#pragma once
// Keys and token builders shared by the auth tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/auth/base64url.h"
#include "common/auth/jwks.h"
#include "common/auth/jws.h"

namespace cdn::auth::testing {

inline std::string gen(Alg alg, std::string_view kid) {
  auto jwk = generate_jwk(alg, kid);
  EXPECT_TRUE(jwk.ok()) << (jwk.ok() ? "" : jwk.error().message);
  return jwk.ok() ? *jwk : std::string();
}

inline std::string jwks_of(std::initializer_list<std::string> jwks) {
  std::string out = "{\"keys\":[";
  bool first = true;
  for (const auto& j : jwks) {
    if (!first) out += ',';
    out += j;
    first = false;
  }
  return out + "]}";
}

inline std::shared_ptr<const KeySet> keyset(const std::string& jwks_text) {
  auto set = parse_jwks(jwks_text);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
  return std::make_shared<const KeySet>(set.ok() ? std::move(*set) : KeySet());
}

// A compact token with an arbitrary header, signed by `key` (for forging hostile tokens).
inline std::string forge(std::string_view header_json, std::string_view payload_json, const Key& key) {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  auto sig = key.sign(input);
  EXPECT_TRUE(sig.ok());
  return input + "." + base64url_encode(sig.ok() ? *sig : std::string());
}

}  // namespace cdn::auth::testing
