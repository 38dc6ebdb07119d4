#pragma once
// Loading the one private key that signs tokens (the edge's renewal key, `cdnctl token sign`).
// Belongs next to load_jwks in common/auth; kept here until that module takes it.
#include <memory>
#include <string>
#include <string_view>

#include "common/auth/key.h"
#include "common/util/result.h"

namespace cdn::edge {

// `text` is one JWK object, or a JWKS whose first key is taken. The key must hold its private
// part (ES256/EdDSA "d", or an HS256 secret).
Result<std::shared_ptr<const auth::Key>> parse_signing_key(std::string_view text);
Result<std::shared_ptr<const auth::Key>> load_signing_key(const std::string& path);

}  // namespace cdn::edge
