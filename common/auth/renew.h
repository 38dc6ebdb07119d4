#pragma once
// RFC 9246 signed token renewal: a verified token with `cdniets` earns a fresh short-lived token.
#include <cstdint>
#include <string>

#include "common/auth/claims.h"
#include "common/auth/key.h"
#include "common/util/result.h"

namespace cdn::auth {

// The renewed token carries every claim of the original (sub, scope, climit, cbeh, cip, iss, aud,
// cdniets, cdnistt, …) with exp = now_s + cdniets, iat = now_s, no nbf, and `sid` written out
// explicitly so a derived session id stays the same session across renewals. Fails when the claims
// have no cdniets (renewal not offered) or the key cannot sign.
Result<std::string> renew(const Claims& claims, const Key& renewal_key, int64_t now_s);

}  // namespace cdn::auth
