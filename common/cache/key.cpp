#include "common/cache/key.h"

#include <xxhash.h>

#include <algorithm>

#include "common/http/query.h"

namespace cdn::cache {

namespace {

bool is_excluded(std::string_view name, const std::vector<std::string>& excluded) {
  return std::any_of(excluded.begin(), excluded.end(),
                     [&](const std::string& e) { return e == name; });
}

std::string normalize_query(std::string_view query, const std::vector<std::string>& excluded) {
  std::vector<http::QueryParam> kept;
  for (const http::QueryParam& p : http::QueryParams(query)) {
    if (!is_excluded(p.name, excluded)) kept.push_back(p);
  }
  // Stable: repeated names (a=2&a=1) keep their relative order, which origins may rely on.
  std::stable_sort(
      kept.begin(), kept.end(),
      [](const http::QueryParam& a, const http::QueryParam& b) { return a.name < b.name; });
  std::string out;
  out.reserve(query.size());
  for (const http::QueryParam& p : kept) {
    if (!out.empty()) out += '&';
    out += p.pair;
  }
  return out;
}

// The host is lowercased and every byte that could end it or look like an escape ('/', '?', '#',
// '%', space, controls, non-ASCII) is written as %XX, so "host/path" splits at its first '/' back
// into the same host and path even when a caller passes a host nobody validated. A valid host
// (RFC 3986 reg-name, IPv4, [IPv6]) has none of these bytes and appears unchanged.
void append_host(std::string& out, std::string_view host) {
  constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : host) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : char(c);
    }
  }
}

}  // namespace

CacheKey make_key(std::string_view host, std::string_view path, std::string_view query,
                  const std::vector<std::string>& excluded_params,
                  std::string_view service_prefix) {
  std::string q = normalize_query(query, excluded_params);
  CacheKey key;
  key.text.reserve(service_prefix.size() + host.size() + path.size() + q.size() + 1);
  key.text += service_prefix;
  append_host(key.text, host);
  key.text += path;
  if (!q.empty()) {
    key.text += '?';
    key.text += q;
  }
  key.hash = hash64(key.text);
  return key;
}

std::string key_prefix_of(std::string_view service_name) {
  if (service_name.empty()) return {};
  return std::string(service_name) + '#';
}

uint64_t hash64(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

uint64_t hash64_seeded(std::string_view s, uint64_t seed) {
  return XXH3_64bits_withSeed(s.data(), s.size(), seed);
}

}  // namespace cdn::cache
