#pragma once
// Strict base64url (RFC 4648 §5) as JWS uses it: no padding, no whitespace, canonical trailing bits.
#include <optional>
#include <string>
#include <string_view>

namespace cdn::auth {

std::string base64url_encode(std::string_view bytes);
// nullopt on any '=', character outside the alphabet, impossible length or non-zero leftover bits.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace cdn::auth
