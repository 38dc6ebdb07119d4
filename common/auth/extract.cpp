#include "common/auth/extract.h"

#include "common/http/query.h"
#include "common/util/strings.h"

namespace cdn::auth {
namespace {

// The first `name` parameter whose value decodes to a non-empty token: an empty or malformed
// one ("token=&token=abc") does not hide a later one.
std::optional<std::string> query_token(std::string_view query, std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::string value;
  for (const http::QueryParam& p : http::QueryParams(query)) {
    if (p.name == name && p.decoded_value(value) && !value.empty()) return value;
  }
  return std::nullopt;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (std::string_view pair : split(header, ';')) {
    pair = trim(pair);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (!value.empty()) return std::string(value);
  }
  return std::nullopt;
}

std::optional<std::string> bearer(std::string_view header) {
  header = trim(header);
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || !iequals(header.substr(0, kScheme.size()), kScheme) ||
      (header[kScheme.size()] != ' ' && header[kScheme.size()] != '\t'))
    return std::nullopt;
  std::string_view token = trim(header.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

}  // namespace

std::optional<std::string> extract_token(std::string_view query, std::string_view cookie_header,
                                         std::string_view authorization_header,
                                         std::string_view param_name) {
  if (auto t = query_token(query, param_name)) return t;
  if (auto t = query_token(query, kUriSigningPackage)) return t;
  if (auto t = cookie_value(cookie_header, param_name)) return t;
  if (auto t = cookie_value(cookie_header, kUriSigningPackage)) return t;
  return bearer(authorization_header);
}

std::string strip_param(std::string_view query, std::string_view param_name) {
  return http::query_without(query, {param_name, kUriSigningPackage});
}

}  // namespace cdn::auth
