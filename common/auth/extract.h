#pragma once
// Where a viewer's token travels, and removing it from what goes upstream and into the cache key.
#include <optional>
#include <string>
#include <string_view>

namespace cdn::auth {

// RFC 9246 §3.3's query parameter name, always accepted besides the configured one.
inline constexpr std::string_view kUriSigningPackage = "URISigningPackage";

// First found wins: query parameter `param_name`, query `URISigningPackage`, cookie `param_name`,
// cookie `URISigningPackage`, `Authorization: Bearer <token>`. `query` is without the leading '?'.
// Query values are percent-decoded. An empty value counts as absent.
std::optional<std::string> extract_token(std::string_view query, std::string_view cookie_header,
                                         std::string_view authorization_header,
                                         std::string_view param_name);

// `query` without any `param_name` or `URISigningPackage` parameter. Other parameters keep their
// bytes and order (no re-encoding, so the cache key of the rest is stable); empty pairs are dropped.
std::string strip_param(std::string_view query, std::string_view param_name);

}  // namespace cdn::auth
