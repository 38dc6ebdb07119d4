#include "common/proxy/method_rules.h"

#include "common/cache/freshness.h"

namespace cdn::proxy {

namespace {

constexpr std::string_view kEveryMethod = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";

const MethodRule* rule_for(std::string_view path, const std::vector<MethodRule>& rules) {
  for (const auto& r : rules)
    if (cache::glob_match(r.match, path)) return &r;
  return nullptr;
}

}  // namespace

bool method_allowed(std::string_view method, std::string_view path,
                    const std::vector<MethodRule>& rules) {
  if (method == "GET" || method == "HEAD") return true;
  const MethodRule* r = rule_for(path, rules);
  if (!r) return true;
  for (const auto& m : r->allow)
    if (m == method) return true;
  return false;
}

std::string allowed_methods(std::string_view path, const std::vector<MethodRule>& rules) {
  const MethodRule* r = rule_for(path, rules);
  if (!r) return std::string(kEveryMethod);
  std::string out = "GET, HEAD";
  for (const auto& m : r->allow)
    if (m != "GET" && m != "HEAD") out += ", " + m;
  return out;
}

bool is_safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

bool is_idempotent_method(std::string_view method) {
  return is_safe_method(method) || method == "PUT" || method == "DELETE";
}

}  // namespace cdn::proxy
