#pragma once
// The claims of a verified token, typed. Parsing is strict: a known claim with the wrong type makes
// the token `malformed` rather than being ignored, so a typo never widens what a token allows.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/scope.h"
#include "common/util/result.h"

namespace cdn::auth {

enum class LimitBehaviour { EvictOldest, BlockNew };  // claim cbeh: "EVICT_OLDEST" | "BLOCK_NEW"

struct Claims {
  std::string sub;  // the viewer
  // The playback session. When the token has no `sid`, verification derives one from jti and the
  // client address (see derive_sid), so one token played from two addresses is two sessions.
  std::string sid;
  bool sid_derived = false;
  std::string jti;
  std::string iss;
  std::vector<std::string> aud;  // "aud" as a string or an array of strings
  std::optional<int64_t> exp, nbf, iat;
  std::string cdniuc;  // RFC 9246 URI container, raw ("regex:…" / "hash:…")
  std::string path;    // plain path-prefix scope
  Scope scope;         // compiled from cdniuc + path
  int64_t climit = 0;  // concurrent streams, 0 = unlimited
  LimitBehaviour cbeh = LimitBehaviour::EvictOldest;
  std::string cip;  // client address binding: address or CIDR; empty = unbound
  std::optional<int64_t> cdniets;  // RFC 9246 renewal: lifetime in seconds of a renewed token
  std::optional<int64_t> cdnistt;  // RFC 9246 renewal transport: 1 = cookie, 2 = query string
  std::string raw_payload;         // the payload JSON exactly as signed
};

// Whether the token's scope (cdniuc and/or path claim) covers `path`; Verifier::verify already
// checks it, this is for callers that re-check a path (e.g. a playlist's variant URIs).
inline bool scope_allows(const Claims& claims, std::string_view path) { return claims.scope.allows(path); }

// Parses a JWS payload. `sid` is left empty (and sid_derived false) when the claim is absent.
Result<Claims> parse_claims(std::string_view payload_json);

// base64url(SHA-256(jti | "\n" | client_addr))[0..22]; when jti is absent the token's signature
// stands in for it (unique per token).
std::string derive_sid(std::string_view jti_or_signature, std::string_view client_addr);

}  // namespace cdn::auth
