#pragma once
// Loading the one private key that signs tokens (the edge's renewal key, `cdnctl token sign`).
#include <memory>
#include <string>
#include <string_view>

#include "common/auth/key.h"
#include "common/util/result.h"

namespace cdn::auth {

// `text` is one JWK object, or a JWKS whose first key is taken. The key must hold its private
// part (ES256/EdDSA "d", or an HS256 secret).
Result<std::shared_ptr<const Key>> parse_signing_key(std::string_view text);
Result<std::shared_ptr<const Key>> load_signing_key(const std::string& path);

}  // namespace cdn::auth
