#include "edge/public_prefixes.h"

#include "common/util/strings.h"

namespace cdn::edge {

namespace {

bool is_dot_segment(std::string_view seg) {
  // "%2e" is an unreserved "." left encoded: the same segment to an origin that decodes it.
  auto dot = [](std::string_view s) { return s == "." || iequals(s, "%2e"); };
  if (dot(seg)) return true;
  for (size_t i = 1; i < seg.size(); ++i)
    if (dot(seg.substr(0, i)) && dot(seg.substr(i))) return true;
  return false;
}

// Every segment after the leading '/' is non-empty and not a dot segment.
bool segments_normalized(std::string_view path) {
  std::string_view rest = path.substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || is_dot_segment(seg)) return false;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return true;
}

}  // namespace

bool valid_public_prefix(std::string_view p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.find_first_of("%?#\\") != std::string_view::npos) return false;
  for (unsigned char c : p)
    if (c <= 0x20 || c >= 0x7f) return false;
  return segments_normalized(p);
}

bool under_public_prefix(std::string_view path, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (!starts_with(path, p)) continue;
    if (p.back() != '/' && path.size() != p.size() && path[p.size()] != '/') continue;
    // A trailing '/' on the path is an empty last segment, which a directory URL may have.
    std::string_view body = path;
    if (body.size() > 1 && body.back() == '/') body.remove_suffix(1);
    return segments_normalized(body);
  }
  return false;
}

}  // namespace cdn::edge
