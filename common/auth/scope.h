#pragma once
// What request paths a token covers: RFC 9246 `cdniuc` ("regex:" / "hash:") and a plain `path`
// prefix. Compiled once per token (the verified-token cache keeps it), matched per request.
#include <memory>
#include <string>
#include <string_view>

#include "common/util/result.h"

namespace re2 {
class RE2;
}

namespace cdn::auth {

class Scope {
 public:
  // Patterns are bounded because RE2 compile time and memory grow with them, not with input.
  static constexpr size_t kMaxPatternBytes = 1024;

  // cdniuc and path_prefix may be empty (absent). Unknown cdniuc forms are an error: RFC 9246
  // §2.1.10 says a token with an unsupported container must be rejected.
  static Result<Scope> compile(std::string_view cdniuc, std::string_view path_prefix);

  // Every present constraint must hold. No constraint = the token covers the whole service.
  // `uri` is the request path (with any query string, token parameter already removed): regex
  // must match it entirely, hash is SHA-256 of exactly it.
  bool allows(std::string_view uri) const;
  bool unrestricted() const { return !regex_ && hash_.empty() && prefix_.empty(); }

 private:
  std::shared_ptr<const re2::RE2> regex_;
  std::string hash_;  // 32 raw bytes
  std::string prefix_;
};

}  // namespace cdn::auth
