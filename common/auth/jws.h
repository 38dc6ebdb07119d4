#pragma once
// Compact JWS (RFC 7515) framing: signing, and splitting a token into its decoded parts.
#include <string>
#include <string_view>

#include "common/auth/key.h"
#include "common/util/result.h"

namespace cdn::auth {

// Signs `claims_json` (must be a JSON object) with `key`; header = {"alg","typ":"JWT","kid"}.
Result<std::string> sign(std::string_view claims_json, const Key& key);

// The three dot-separated parts of a compact JWS, still encoded; signing_input = "h.p".
struct CompactParts {
  std::string_view header, payload, signature, signing_input;
};
// False unless there are exactly three parts (JWE's five, or stray dots, are refused) and header
// and payload are non-empty. The signature may be empty (unsecured JWS, RFC 7515 §A.5).
bool split_compact(std::string_view token, CompactParts& out);

}  // namespace cdn::auth
