#include "common/auth/scope.h"

#include <re2/re2.h>

#include "common/auth/base64url.h"
#include "common/auth/ossl.h"
#include "common/util/strings.h"

namespace cdn::auth {
namespace {

// A prefix like "/vod/a/" must not be escaped with "/vod/a/../b/" (or its percent-encoded forms),
// whatever the upstream later does with dot segments.
bool has_dot_segment(std::string_view path) {
  size_t q = path.find('?');
  if (q != std::string_view::npos) path = path.substr(0, q);
  for (std::string_view seg : split(path, '/')) {
    std::string s = to_lower(seg);
    if (s == "." || s == ".." || s == "%2e" || s == "%2e%2e" || s == ".%2e" || s == "%2e.")
      return true;
  }
  return false;
}

}  // namespace

Result<Scope> Scope::compile(std::string_view cdniuc, std::string_view path_prefix) {
  Scope scope;
  if (!path_prefix.empty()) {
    if (path_prefix.front() != '/') return make_error("path claim must start with '/'");
    scope.prefix_ = std::string(path_prefix);
  }
  if (cdniuc.empty()) return scope;
  if (starts_with(cdniuc, "regex:")) {
    std::string_view pattern = cdniuc.substr(6);
    if (pattern.empty() || pattern.size() > kMaxPatternBytes) return make_error("cdniuc regex size");
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(1 << 20);
    auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
    if (!re->ok()) return make_error("cdniuc regex does not compile");
    scope.regex_ = std::move(re);
    return scope;
  }
  if (starts_with(cdniuc, "hash:")) {
    auto digest = base64url_decode(cdniuc.substr(5));
    if (!digest || digest->size() != 32) return make_error("cdniuc hash is not a base64url SHA-256");
    scope.hash_ = std::move(*digest);
    return scope;
  }
  return make_error("cdniuc container type not supported");
}

bool Scope::allows(std::string_view uri) const {
  if (!prefix_.empty() && (!starts_with(uri, prefix_) || has_dot_segment(uri))) return false;
  if (!hash_.empty() && ossl::sha256_digest(uri) != hash_) return false;
  if (regex_ && !RE2::FullMatch(re2::StringPiece(uri.data(), uri.size()), *regex_)) return false;
  return true;
}

}  // namespace cdn::auth
