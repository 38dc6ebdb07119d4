#include "common/http/request_target.h"

#include <vector>

#include "common/http/uri_chars.h"

namespace cdn::http {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Checks one component against its grammar (path: pchar and "/"; query: also "?") and rewrites
// its escapes: unreserved ones decoded, the rest uppercased. Returns the error reason or "".
const char* canonical_escapes(std::string_view in, bool is_path, EscapedSlashes slashes,
                              std::string& out) {
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c != '%') {
      if (!is_pchar(c) && c != '/' && (is_path || c != '?')) return "bad-request-target";
      out += char(c);
      continue;
    }
    int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return "bad-request-target";
    i += 2;
    unsigned char v = static_cast<unsigned char>(hi * 16 + lo);
    if (v == 0) return "encoded-nul";
    if (is_unreserved(v)) {
      out += char(v);
      continue;
    }
    if (is_path && (v == '/' || v == '\\') && slashes == EscapedSlashes::Refuse)
      return "encoded-slash";
    out += '%';
    out += kHex[v >> 4];
    out += kHex[v & 0xf];
  }
  return "";
}

// RFC 3986 §5.2.4 on a path whose escapes are canonical, also merging repeated slashes: empty
// segments are dropped like "." ones. A path that ended in a slash, "." or ".." keeps a final '/'.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  bool trailing_slash = false;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(pos, end - pos);
    trailing_slash = seg.empty() || seg == "." || seg == "..";
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!seg.empty() && seg != ".") {
      kept.push_back(seg);
    }
    pos = end + 1;
  }
  std::string out;
  out.reserve(path.size() + 1);
  for (std::string_view seg : kept) {
    out += '/';
    out += seg;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

// True when remove_dot_segments(canonical_escapes(path)) would return `path` unchanged: no
// escapes, no empty (except a final one), "." or ".." segments. Most requests' paths are like
// that; they are copied once instead of rebuilt.
bool already_canonical(std::string_view path) {
  size_t seg_start = 1;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string_view seg = path.substr(seg_start, i - seg_start);
      if (seg == "." || seg == ".." || (seg.empty() && i != path.size())) return false;
      seg_start = i + 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '%' || !is_pchar(c)) return false;
  }
  return true;
}

}  // namespace

NormalizedTarget normalize_target(std::string_view target, EscapedSlashes slashes) {
  NormalizedTarget t;
  if (target.empty() || target.front() != '/') {
    t.error = "bad-request-target";
    return t;
  }
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  bool canonical = already_canonical(raw_path);
  std::string path;
  if (canonical) {
    t.path.assign(raw_path);
  } else if (const char* e = canonical_escapes(target.substr(0, q), true, slashes, path); e[0]) {
    t.error = e;
    return t;
  }
  if (q != std::string_view::npos) {
    t.has_query = true;
    if (const char* e = canonical_escapes(target.substr(q + 1), false, slashes, t.query); e[0]) {
      t.error = e;
      return t;
    }
  }
  if (!canonical) t.path = remove_dot_segments(path);
  return t;
}

}  // namespace cdn::http
