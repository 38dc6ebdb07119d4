#pragma once
// JWKS (RFC 7517) loading. A KeySet is immutable: reload builds a new one and the owner swaps a
// std::shared_ptr<const KeySet>, so verifications in flight keep the set they started with.
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/key.h"
#include "common/util/result.h"

namespace cdn::auth {

class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}

  const Key* find(std::string_view kid) const;
  const std::vector<Key>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<Key> keys_;
};

// Accepted members per key: kid (required, unique), kty, crv, alg, use ("sig" only), x, y, d, k.
// The algorithm is implied by kty/crv (EC P-256 → ES256, OKP Ed25519 → EdDSA, oct → HS256); an
// explicit alg must agree with it. Any unsupported or inconsistent key fails the whole set:
// silently dropping a key would surface later as unexplained `unknown-kid` rejections.
Result<KeySet> parse_jwks(std::string_view text);
Result<KeySet> load_jwks(const std::string& path);

// A fresh private JWK (JSON object text) for `alg`, for cdnctl and tests.
Result<std::string> generate_jwk(Alg alg, std::string_view kid);
// The same JWK without its private members ("d"); HS256 keys are returned unchanged (secret).
Result<std::string> public_jwk(std::string_view private_jwk);

}  // namespace cdn::auth
