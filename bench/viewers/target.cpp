#include "bench/viewers/target.h"

#include <vector>

namespace cdn::viewers {

namespace {

// Removes "." and ".." segments (RFC 3986 §5.2.4) from an absolute path.
std::string remove_dots(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 1;  // past the leading '/'
  bool trailing = false;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(i, slash - i);
    trailing = seg == "." || seg == "..";
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (seg != ".") {
      out.push_back(seg);
    }
    i = slash + 1;
  }
  std::string r;
  for (auto s : out) r += "/" + std::string(s);
  if (trailing || r.empty()) r += "/";
  return r;
}

}  // namespace

std::string resolve_target(std::string_view base, std::string_view uri) {
  if (auto scheme = uri.find("://"); scheme != std::string_view::npos && scheme < uri.find('/')) {
    size_t path = uri.find('/', scheme + 3);
    return path == std::string_view::npos ? "/" : std::string(uri.substr(path));
  }
  std::string_view query;
  if (size_t q = uri.find('?'); q != std::string_view::npos) {
    query = uri.substr(q);
    uri = uri.substr(0, q);
  }
  std::string path;
  if (!uri.empty() && uri[0] == '/') {
    path = uri;
  } else {
    std::string_view dir = base.substr(0, base.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    path = std::string(dir) + std::string(uri);
  }
  return remove_dots(path) + std::string(query);
}

std::string with_param(std::string_view target, std::string_view name, std::string_view value) {
  size_t q = target.find('?');
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    size_t at = 0;
    while (at <= query.size()) {
      size_t amp = query.find('&', at);
      std::string_view p =
          query.substr(at, amp == std::string_view::npos ? std::string_view::npos : amp - at);
      if (p.substr(0, p.find('=')) == name) return std::string(target);
      if (amp == std::string_view::npos) break;
      at = amp + 1;
    }
  }
  std::string out(target);
  out += q == std::string_view::npos ? '?' : '&';
  out += std::string(name) + "=" + std::string(value);
  return out;
}

}  // namespace cdn::viewers
