#include "common/runtime/admin_api.h"

#include <openssl/crypto.h>

#include "common/obs/metrics.h"

namespace cdn::runtime {

namespace {

bool token_ok(const std::string& expected, std::string_view auth) {
  static constexpr std::string_view kPrefix = "Bearer ";
  if (expected.empty() || auth.size() != kPrefix.size() + expected.size()) return false;
  if (auth.substr(0, kPrefix.size()) != kPrefix) return false;
  return CRYPTO_memcmp(auth.data() + kPrefix.size(), expected.data(), expected.size()) == 0;
}

}  // namespace

void AdminApi::refuse(const std::shared_ptr<http::Exchange>& ex, int status,
                      const std::string& reason, http::Headers h) {
  obs::metrics()
      .counter("cdn_admin_rejections_total", "Admin requests refused, by reason",
               {{"reason", reason}})
      .inc();
  ex->respond_error(status, reason, std::move(h));
}

bool AdminApi::authorized(const std::shared_ptr<http::Exchange>& ex) const {
  if (token_.empty()) {
    // No token configured: nothing that needs one is reachable.
    refuse(ex, 403, "admin-token-not-configured");
    return false;
  }
  if (!token_ok(token_, ex->request().headers.get_or("authorization"))) {
    refuse(ex, 401, "admin-token-required", {{"WWW-Authenticate", "Bearer"}});
    return false;
  }
  return true;
}

bool AdminApi::is_operator(const http::Exchange& ex) const {
  return token_ok(token_, ex.request().headers.get_or("authorization"));
}

const std::vector<AdminApi::Entry>* AdminApi::lookup(const std::string& path) const {
  if (auto it = routes_.find(path); it != routes_.end()) return &it->second;
  for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
       slash = path.rfind('/', slash - 1)) {
    if (auto it = routes_.find(path.substr(0, slash) + "/*"); it != routes_.end())
      return &it->second;
  }
  return nullptr;
}

void AdminApi::handle(const std::shared_ptr<http::Exchange>& ex) {
  const auto& req = ex->request();
  const std::vector<Entry>* entries = lookup(req.path);
  if (!entries) {
    ex->respond_error(404, "no-such-admin-route");
    return;
  }
  const bool write = req.method == "POST" || req.method == "DELETE";
  const bool read = req.method == "GET" || req.method == "HEAD";
  const Entry* e = nullptr;
  std::string allow;
  for (const Entry& c : *entries) {
    const bool is_write = c.access == Access::Write;
    allow += std::string(allow.empty() ? "" : ", ") + (is_write ? "POST, DELETE" : "GET, HEAD");
    if ((write && is_write) || (read && !is_write)) e = &c;
  }
  if (!e) {
    ex->respond_error(405, "method-not-allowed", {{"Allow", allow}});
    return;
  }
  const bool scoped_ok = e->scoped && e->scoped(ex->request().headers.get_or("authorization"));
  if (e->access != Access::PublicRead && !scoped_ok && !authorized(ex)) return;
  e->route(ex);
}

}  // namespace cdn::runtime
