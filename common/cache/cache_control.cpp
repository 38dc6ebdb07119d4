#include "common/cache/cache_control.h"

#include "common/cache/age.h"
#include "common/util/strings.h"

namespace cdn::cache {

namespace {

struct Directive {
  std::string_view name;
  std::string value;  // unquoted
  bool has_value = false;
};

// Reads one directive starting at pos and leaves pos after the next top-level ','.
Directive next_directive(std::string_view s, size_t& pos) {
  Directive d;
  size_t start = pos;
  while (pos < s.size() && s[pos] != '=' && s[pos] != ',') ++pos;
  d.name = trim(s.substr(start, pos - start));
  if (pos < s.size() && s[pos] == '=') {
    d.has_value = true;
    ++pos;
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    if (pos < s.size() && s[pos] == '"') {
      // quoted-string: a ',' inside (no-cache="a, b") must not end the directive.
      for (++pos; pos < s.size() && s[pos] != '"'; ++pos) {
        if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
        d.value.push_back(s[pos]);
      }
      if (pos < s.size()) ++pos;
    } else {
      size_t vstart = pos;
      while (pos < s.size() && s[pos] != ',') ++pos;
      d.value = std::string(trim(s.substr(vstart, pos - vstart)));
    }
  }
  while (pos < s.size() && s[pos] != ',') ++pos;  // junk after a quoted value
  if (pos < s.size()) ++pos;
  return d;
}

// Returns false when the directive is present but its value is not delta-seconds.
bool set_first_delta(std::optional<int64_t>& field, const Directive& d) {
  if (field) return true;  // only the first occurrence counts, valid or not
  auto v = parse_delta_seconds(d.value);
  field = v;
  return v.has_value();
}

struct FlagDirective {
  std::string_view name;
  bool CacheControl::*flag;
};
constexpr FlagDirective kFlags[] = {
    {"no-store", &CacheControl::no_store},
    {"no-cache", &CacheControl::no_cache},
    {"private", &CacheControl::is_private},
    {"public", &CacheControl::is_public},
    {"must-revalidate", &CacheControl::must_revalidate},
    {"proxy-revalidate", &CacheControl::proxy_revalidate},
    {"immutable", &CacheControl::immutable},
};

}  // namespace

std::optional<int64_t> parse_delta_seconds(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > kMaxDeltaSeconds) v = kMaxDeltaSeconds;
  }
  return v;
}

CacheControl parse_cache_control(std::string_view value) {
  CacheControl cc;
  size_t pos = 0;
  while (pos < value.size()) {
    Directive d = next_directive(value, pos);
    if (d.name.empty()) continue;
    if (iequals(d.name, "max-age")) {
      if (!set_first_delta(cc.max_age, d)) cc.invalid_freshness = true;
    } else if (iequals(d.name, "s-maxage")) {
      if (!set_first_delta(cc.s_maxage, d)) cc.invalid_freshness = true;
    } else if (iequals(d.name, "stale-while-revalidate")) {
      set_first_delta(cc.stale_while_revalidate, d);
    } else if (iequals(d.name, "stale-if-error")) {
      set_first_delta(cc.stale_if_error, d);
    } else {
      for (const auto& [name, flag] : kFlags)
        if (iequals(d.name, name)) cc.*flag = true;
    }
  }
  return cc;
}

}  // namespace cdn::cache
