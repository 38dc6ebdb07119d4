#include "common/hls/uri_query.h"

namespace cdn::hls {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool ieq(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if ((a[k] | 0x20) != lower[k]) return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

bool foreign_scheme(std::string_view uri) {
  if (uri.empty() || !is_alpha(uri[0])) return false;
  size_t i = 1;
  while (i < uri.size() && (is_alpha(uri[i]) || (uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' ||
                            uri[i] == '-' || uri[i] == '.'))
    ++i;
  if (i >= uri.size() || uri[i] != ':') return false;
  std::string_view scheme = uri.substr(0, i);
  return !ieq(scheme, "http") && !ieq(scheme, "https");
}

void append_with_query(std::string& out, std::string_view uri, std::string_view q,
                       std::string_view amp) {
  if (uri.empty() || foreign_scheme(uri)) {
    out += uri;
    return;
  }
  size_t frag = uri.find('#');
  std::string_view base = uri.substr(0, frag);
  out += base;
  if (base.find('?') == std::string_view::npos)
    out += '?';
  else if (base.back() != '?' && !ends_with(base, amp))
    out += amp;
  out += q;
  if (frag != std::string_view::npos) out += uri.substr(frag);
}

}  // namespace cdn::hls
