#include "common/runtime/admin_api.h"

#include <openssl/crypto.h>

namespace cdn::runtime {

static bool token_ok(const std::string& expected, std::string_view auth) {
  static constexpr std::string_view kPrefix = "Bearer ";
  if (expected.empty() || auth.size() != kPrefix.size() + expected.size()) return false;
  if (auth.substr(0, kPrefix.size()) != kPrefix) return false;
  return CRYPTO_memcmp(auth.data() + kPrefix.size(), expected.data(), expected.size()) == 0;
}

void AdminApi::handle(const std::shared_ptr<http::Exchange>& ex) {
  const auto& req = ex->request();
  if (auto it = writes_.find(req.path); it != writes_.end()) {
    if (req.method != "POST" && req.method != "DELETE") {
      ex->respond_error(405, "method-not-allowed", {{"Allow", "POST, DELETE"}});
      return;
    }
    if (token_.empty()) {
      ex->respond_error(403, "admin-writes-disabled");
      return;
    }
    if (!token_ok(token_, req.headers.get_or("authorization"))) {
      ex->respond_error(401, "admin-token-required", {{"WWW-Authenticate", "Bearer"}});
      return;
    }
    it->second(ex);
    return;
  }
  if (auto it = reads_.find(req.path); it != reads_.end()) {
    if (req.method != "GET" && req.method != "HEAD") {
      ex->respond_error(405, "method-not-allowed", {{"Allow", "GET, HEAD"}});
      return;
    }
    it->second(ex);
    return;
  }
  ex->respond_error(404, "no-such-admin-route");
}

}  // namespace cdn::runtime
