#pragma once
// Which request methods a path passes upstream (proxy.methods): GET and HEAD are the cache's and
// always allowed; other methods pass through uncached unless the first rule whose glob matches
// the path leaves them out (a read-only path answers them 405).
#include <string>
#include <string_view>
#include <vector>

namespace cdn::proxy {

struct MethodRule {
  std::string match;               // glob on the path, as cache.default_ttls
  std::vector<std::string> allow;  // method names, upper case
};

bool method_allowed(std::string_view method, std::string_view path,
                    const std::vector<MethodRule>& rules);
// The Allow field for `path` (RFC 9110 §10.2.1), also what a CORS preflight there may use.
std::string allowed_methods(std::string_view path, const std::vector<MethodRule>& rules);

// RFC 9110 §9.2.1: a safe method does not change the origin's state (nothing to invalidate).
bool is_safe_method(std::string_view method);
// RFC 9110 §9.2.2: sending an idempotent request twice has the effect of sending it once.
bool is_idempotent_method(std::string_view method);

}  // namespace cdn::proxy
