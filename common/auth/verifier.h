#pragma once
// Token verification for the access gate. Thread-safe: one Verifier serves every worker thread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "common/auth/claims.h"
#include "common/auth/jwks.h"
#include "common/auth/token_cache.h"

namespace cdn::auth {

struct VerifyPolicy {
  std::string issuer, audience;  // empty = not checked
  int64_t leeway_s = 30;
  size_t max_token_bytes = 4096;
  bool require_exp = true;
  // A derived sid (no `sid` claim) includes the client address cut to these prefixes, the same
  // "place" a stream session remembers (access.sessions.address_prefix_v4 / _v6).
  int address_prefix_v4 = 24;
  int address_prefix_v6 = 56;
};

// reason is one of: malformed, too-large, bad-base64, alg-none, unknown-kid, alg-mismatch,
// bad-signature, expired, not-yet-valid, wrong-issuer, wrong-audience, scope, client-address.
// detail is for logs and `cdnctl token verify`, never for the client.
struct Rejection {
  std::string reason;
  std::string detail;
};

class VerifyResult {
 public:
  VerifyResult(Claims c) : v_(std::move(c)) {}
  VerifyResult(Rejection r) : v_(std::move(r)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const Claims& claims() const { return std::get<0>(v_); }
  Claims& claims() { return std::get<0>(v_); }
  const Rejection& rejection() const { return std::get<1>(v_); }

 private:
  std::variant<Claims, Rejection> v_;
};

// The request a token is presented with: what its scope, address binding and times are checked
// against.
struct TokenRequest {
  std::string_view path;         // request path (+ query without the token) matched by the scope
  std::string_view client_addr;  // textual IP of the viewer
  int64_t now_s = 0;             // unix seconds
};

class Verifier {
 public:
  // cache_entries = 0 disables the verified-token cache.
  Verifier(std::shared_ptr<const KeySet> keys, VerifyPolicy policy, size_t cache_entries = 10000);

  // JWKS reload (SIGHUP): in-flight verifications finish with the set they started with, and
  // cached results from the old set are no longer used.
  void set_keys(std::shared_ptr<const KeySet> keys);
  std::shared_ptr<const KeySet> keys() const;
  const VerifyPolicy& policy() const { return policy_; }

  VerifyResult verify(std::string_view token, const TokenRequest& request) const;

 private:
  struct KeyState {
    std::shared_ptr<const KeySet> keys;
    uint64_t generation;
  };
  // Signature and claim syntax; independent of the request, hence cacheable.
  // digest = SHA-256(token) when the cache is on, else empty.
  std::variant<std::shared_ptr<const Claims>, Rejection> authenticate(std::string_view token,
                                                                     const std::string& digest,
                                                                     const KeyState& state,
                                                                     int64_t now_s) const;
  std::optional<Rejection> check(const Claims& claims, const TokenRequest& request) const;

  VerifyPolicy policy_;
  std::atomic<std::shared_ptr<const KeyState>> state_;
  std::atomic<uint64_t> next_generation_{1};
  std::unique_ptr<TokenCache> cache_;
};

}  // namespace cdn::auth
