#include "common/auth/extract.h"

#include "common/util/strings.h"

namespace cdn::auth {
namespace {

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (std::string_view pair : split(query, '&')) {
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key != name || eq == std::string_view::npos) continue;
    auto value = url_decode(pair.substr(eq + 1));
    if (value && !value->empty()) return value;
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
  if (auto t = query_value(query, param_name)) return t;
  if (auto t = query_value(query, kUriSigningPackage)) return t;
  if (auto t = cookie_value(cookie_header, param_name)) return t;
  if (auto t = cookie_value(cookie_header, kUriSigningPackage)) return t;
  return bearer(authorization_header);
}

std::string strip_param(std::string_view query, std::string_view param_name) {
  std::string out;
  out.reserve(query.size());
  for (std::string_view pair : split(query, '&')) {
    std::string_view key = pair.substr(0, pair.find('='));
    if ((!param_name.empty() && key == param_name) || key == kUriSigningPackage) continue;
    if (pair.empty()) continue;
    if (!out.empty()) out += '&';
    out.append(pair);
  }
  return out;
}

}  // namespace cdn::auth
