#include "common/hls/attribute_list.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace cdn::hls {
namespace {

// RFC 8216 names are [A-Z0-9-]; lower case and '_' are tolerated. Anything else (a quote, a comma,
// a blank) means the list is broken, and guessing would change its meaning on a round trip.
bool valid_name(std::string_view n) {
  for (char c : n)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return false;
  return true;
}

}  // namespace

bool AttributeReader::next(Attribute& out) {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  if (pos_ >= text_.size()) return false;
  size_t eq = text_.find('=', pos_);
  if (eq == std::string_view::npos || eq == pos_) {
    malformed_ = true;
    return false;
  }
  out.name = text_.substr(pos_, eq - pos_);
  if (!valid_name(out.name)) {
    malformed_ = true;
    return false;
  }
  size_t v = eq + 1;
  if (v < text_.size() && text_[v] == '"') {
    size_t close = text_.find('"', v + 1);
    if (close == std::string_view::npos) {
      malformed_ = true;
      return false;
    }
    out.value = text_.substr(v + 1, close - v - 1);
    out.value_offset = v + 1;
    out.quoted = true;
    pos_ = close + 1;
    while (pos_ < text_.size() && text_[pos_] != ',') ++pos_;  // tolerate junk before the comma
  } else {
    size_t comma = text_.find(',', v);
    if (comma == std::string_view::npos) comma = text_.size();
    out.value = text_.substr(v, comma - v);
    while (!out.value.empty() && (out.value.back() == ' ' || out.value.back() == '\t'))
      out.value.remove_suffix(1);
    out.value_offset = v;
    out.quoted = false;
    pos_ = comma;
  }
  if (pos_ < text_.size()) ++pos_;  // the comma
  return true;
}

std::optional<double> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v + 0.0;  // -0 becomes 0, so it is written back as "0"
}

std::optional<uint64_t> parse_unsigned(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string format_decimal(double v) {
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%.3f", v);
  if (n <= 0 || n >= int(sizeof buf)) return "0";
  std::string s(buf, size_t(n));
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace cdn::hls
