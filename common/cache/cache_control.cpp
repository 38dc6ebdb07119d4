#include "common/cache/cache_control.h"

#include <cctype>

#include "common/cache/age.h"
#include "common/util/strings.h"

namespace cdn::cache {

namespace {

struct Directive {
  std::string_view name;
  std::string value;  // unquoted
  bool has_value = false;
  // RFC 9111 §5.2: directive = token [ "=" ( token / quoted-string ) ], nothing around the '=';
  // "max-age = 60" is not a max-age of 60.
  bool malformed = false;
};

// Reads one directive starting at pos and leaves pos after the next top-level ','.
Directive next_directive(std::string_view s, size_t& pos) {
  Directive d;
  size_t start = pos;
  while (pos < s.size() && s[pos] != '=' && s[pos] != ',') ++pos;
  std::string_view raw_name = s.substr(start, pos - start);
  d.name = trim(raw_name);
  if (pos < s.size() && s[pos] == '=') {
    d.has_value = true;
    d.malformed = !raw_name.empty() && (raw_name.back() == ' ' || raw_name.back() == '\t');
    ++pos;
    if (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) d.malformed = true;
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
  auto v = d.malformed ? std::nullopt : parse_delta_seconds(d.value);
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
    {"only-if-cached", &CacheControl::only_if_cached},
};

}  // namespace

namespace {

// RFC 8941 §3.3: the bare items a directive's value may be. Returns false on a syntax error;
// `out` gets an integer's or a string's or token's text.
bool parse_bare_item(std::string_view s, size_t& pos, std::string& out, bool& is_integer) {
  is_integer = false;
  if (pos >= s.size()) return false;
  char c = s[pos];
  if (c == '-' || (c >= '0' && c <= '9')) {
    size_t start = pos;
    if (c == '-') ++pos;
    size_t digits = pos;
    while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || s[pos] == '.')) ++pos;
    std::string_view num = s.substr(start, pos - start);
    if (pos == digits || pos - digits > 16) return false;
    is_integer = num.find('.') == std::string_view::npos;
    out = std::string(num);
    return true;
  }
  if (c == '"') {
    for (++pos; pos < s.size(); ++pos) {
      if (s[pos] == '\\') {
        if (++pos >= s.size() || (s[pos] != '"' && s[pos] != '\\')) return false;
      } else if (s[pos] == '"') {
        ++pos;
        return true;
      } else if (s[pos] < 0x20 || s[pos] > 0x7e) {
        return false;
      }
      out.push_back(s[pos]);
    }
    return false;  // unterminated
  }
  if (c == '?') {
    if (pos + 1 >= s.size() || (s[pos + 1] != '0' && s[pos + 1] != '1')) return false;
    pos += 2;
    return true;
  }
  if (c == ':') {
    size_t end = s.find(':', pos + 1);
    if (end == std::string_view::npos) return false;
    pos = end + 1;
    return true;
  }
  auto tchar = [](char x) {
    return std::isalnum(static_cast<unsigned char>(x)) ||
           std::string_view("!#$%&'*+-.^_`|~:/").find(x) != std::string_view::npos;
  };
  if (!std::isalpha(static_cast<unsigned char>(c)) && c != '*') return false;
  size_t start = pos;
  while (pos < s.size() && tchar(s[pos])) ++pos;
  out = std::string(s.substr(start, pos - start));
  return true;
}

// RFC 8941 §3.1.2: a key starts with lcalpha or '*'.
bool parse_key(std::string_view s, size_t& pos, std::string_view& key) {
  size_t start = pos;
  if (pos >= s.size() || !((s[pos] >= 'a' && s[pos] <= 'z') || s[pos] == '*')) return false;
  while (pos < s.size() && ((s[pos] >= 'a' && s[pos] <= 'z') || (s[pos] >= '0' && s[pos] <= '9') ||
                            s[pos] == '_' || s[pos] == '-' || s[pos] == '.' || s[pos] == '*'))
    ++pos;
  key = s.substr(start, pos - start);
  return true;
}

bool skip_parameters(std::string_view s, size_t& pos) {
  while (pos < s.size() && s[pos] == ';') {
    ++pos;
    while (pos < s.size() && s[pos] == ' ') ++pos;
    std::string_view key;
    if (!parse_key(s, pos, key)) return false;
    if (pos < s.size() && s[pos] == '=') {
      ++pos;
      std::string ignored;
      bool is_int;
      if (!parse_bare_item(s, pos, ignored, is_int)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<CacheControl> parse_targeted_cache_control(std::string_view value) {
  CacheControl cc;
  size_t pos = 0;
  auto ows = [&] {
    while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t')) ++pos;
  };
  ows();
  if (pos == value.size()) return std::nullopt;  // empty: not a valid, non-empty value (§2.1)
  while (true) {
    std::string_view key;
    if (!parse_key(value, pos, key)) return std::nullopt;
    std::string item;
    bool is_integer = false, has_value = false;
    if (pos < value.size() && value[pos] == '=') {  // no whitespace around '=' (RFC 8941 §3.2)
      ++pos;
      if (value.substr(pos, 1) == "(") return std::nullopt;  // inner lists are no directive's value
      if (!parse_bare_item(value, pos, item, is_integer)) return std::nullopt;
      has_value = true;
    }
    if (!skip_parameters(value, pos)) return std::nullopt;
    // RFC 9213 §2.2: an integer directive with another type of value is ignored, not the field.
    auto delta = [&](std::optional<int64_t>& f) {
      if (f) return;  // RFC 8941: the last duplicate wins in a dictionary, but one is enough here
      if (has_value && is_integer && item[0] != '-') f = parse_delta_seconds(item);
    };
    if (key == "max-age") {
      delta(cc.max_age);
    } else if (key == "s-maxage") {
      delta(cc.s_maxage);
    } else if (key == "stale-while-revalidate") {
      delta(cc.stale_while_revalidate);
    } else if (key == "stale-if-error") {
      delta(cc.stale_if_error);
    } else {
      for (const auto& [name, flag] : kFlags)
        if (key == name) cc.*flag = true;
    }
    ows();
    if (pos == value.size()) return cc;
    if (value[pos] != ',') return std::nullopt;
    ++pos;
    ows();
    if (pos == value.size()) return std::nullopt;  // trailing comma
  }
}

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
    } else if (iequals(d.name, "min-fresh")) {
      set_first_delta(cc.min_fresh, d);
    } else if (iequals(d.name, "no-cache") && d.has_value && !trim(d.value).empty()) {
      for (std::string_view f : split(d.value, ','))
        if (!trim(f).empty()) cc.no_cache_fields.push_back(std::string(trim(f)));
    } else {
      for (const auto& [name, flag] : kFlags)
        if (iequals(d.name, name)) cc.*flag = true;
    }
  }
  return cc;
}

}  // namespace cdn::cache
