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
  // The playback session. When the token has no `sid`, verification derives one from the signed
  // payload and the client's place (see derive_sid), so one token played from two places is two
  // sessions.
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

// base64url(SHA-256("jti\n" jti "\n" place))[0..22], or with "payload\n" and the payload JSON when
// jti is absent. Only signed bytes go in: the signature text is not unique to a payload (ECDSA's
// s -> n-s verifies too), so a session id built from it would let a second string of the same
// token be a second session. `place` is the client address cut to its prefix (address_place).
std::string derive_sid(const Claims& claims, std::string_view place);

}  // namespace cdn::auth
