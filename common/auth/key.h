#pragma once
// One signing/verification key, bound to exactly one JWS algorithm at construction (RFC 8725 §3.1):
// the token header can only select a key by kid, never change how that key is used.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/auth/ossl.h"
#include "common/util/result.h"

namespace cdn::auth {

enum class Alg { ES256, EdDSA, HS256 };

std::string_view alg_name(Alg alg);
std::optional<Alg> alg_from_name(std::string_view name);

class Key {
 public:
  // x, y, d are the raw big-endian coordinates / scalar (32 bytes each); d empty = verify only.
  static Result<Key> ec_p256(std::string kid, std::string_view x, std::string_view y,
                             std::string_view d = {});
  // x = 32-byte public key, d = 32-byte seed (empty = verify only).
  static Result<Key> ed25519(std::string kid, std::string_view x, std::string_view d = {});
  // RFC 7518 §3.2: secrets shorter than the hash output (32 bytes) are refused.
  static Result<Key> hmac_sha256(std::string kid, std::string_view secret);

  const std::string& kid() const { return kid_; }
  Alg alg() const { return alg_; }
  bool can_sign() const { return can_sign_; }

  // Signature over the JWS signing input, in JWS form (ES256: r||s, 64 bytes).
  Result<std::string> sign(std::string_view signing_input) const;
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  Key(std::string kid, Alg alg) : kid_(std::move(kid)), alg_(alg) {}
  std::string hmac(std::string_view data) const;

  std::string kid_;
  Alg alg_;
  bool can_sign_ = false;
  ossl::PKey pkey_;        // ES256, EdDSA
  ossl::MacCtx mac_base_;  // HS256: keyed once, duplicated per use (EVP_MAC_CTX is not shareable)
};

}  // namespace cdn::auth
