#include "edge/session_admin.h"

#include <optional>

#include "common/http/query.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/runtime/admin_api.h"

namespace cdn::edge {

namespace {

std::string json_string(std::string_view s) {
  std::string out;
  obs::append_json_string(out, s);
  return out;
}

std::string sessions_json(const std::string& sub, const std::vector<auth::SessionInfo>& v) {
  std::string out = "{\"sub\":" + json_string(sub) + ",\"sessions\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += "{\"sid\":" + json_string(v[i].sid) + ",\"place\":" + json_string(v[i].place) +
           ",\"started_ms\":" + std::to_string(v[i].started_ms) +
           ",\"renewed_ms\":" + std::to_string(v[i].renewed_ms) + "}";
  }
  return out + "]}\n";
}

// Who may reach which viewers: shared by both routes.
class Scope {
 public:
  Scope(const runtime::AdminApi* admin, ServiceOfToken service_of_token)
      : admin_(admin), service_of_token_(std::move(service_of_token)) {}

  // The service the request may act on: service= for the operator; for a service's token its
  // own service (service= may only repeat it). nullopt = refused (answered and counted).
  std::optional<std::string> service(const std::shared_ptr<http::Exchange>& ex) const {
    std::string asked = http::query_value(ex->request().query, "service").value_or("");
    if (admin_->is_operator(*ex)) return asked;
    std::string own = service_of_token_(ex->request().headers.get_or("authorization"));
    if (!asked.empty() && asked != own) {
      runtime::AdminApi::refuse(ex, 403, "session-out-of-scope");
      return std::nullopt;
    }
    return own;
  }
  bool accepts(std::string_view authorization) const {
    return service_of_token_ && !service_of_token_(authorization).empty();
  }

 private:
  const runtime::AdminApi* admin_;
  ServiceOfToken service_of_token_;
};

// The store's name of a viewer: "<service>/<sub>" with delivery services, the sub alone without.
std::string store_sub(const std::string& service, const std::string& sub) {
  return service.empty() ? sub : service + "/" + sub;
}

}  // namespace

void add_session_admin_routes(runtime::AdminApi& admin, std::shared_ptr<Sessions> sessions,
                              ServiceOfToken service_of_token) {
  auto scope = std::make_shared<const Scope>(&admin, std::move(service_of_token));
  auto accepts = [scope](std::string_view authorization) { return scope->accepts(authorization); };
  // The routes hold the sessions, not the phases, which a reload replaces.
  admin.add_scoped_private_read(
      "/admin/sessions",
      [sessions, scope](const std::shared_ptr<http::Exchange>& ex) {
        std::string sub = http::query_value(ex->request().query, "sub").value_or("");
        if (sub.empty()) {
          ex->respond_error(400, "sub-required");
          return;
        }
        auto service = scope->service(ex);
        if (!service) return;
        sub = store_sub(*service, sub);
        sessions->store_for(*ex->worker()).list(sub, [ex, sub](std::vector<auth::SessionInfo> v) {
          ex->respond(200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
                      sessions_json(sub, v));
        });
      },
      accepts);
  admin.add_scoped_write(
      "/admin/sessions/kick",
      [sessions, scope](const std::shared_ptr<http::Exchange>& ex) {
        auth::SessionKey key{http::query_value(ex->request().query, "sub").value_or(""),
                             http::query_value(ex->request().query, "sid").value_or("")};
        if (key.sub.empty() || key.sid.empty()) {
          ex->respond_error(400, "sub-and-sid-required");
          return;
        }
        auto service = scope->service(ex);
        if (!service) return;
        key.sub = store_sub(*service, key.sub);
        sessions->kicked(key);
        obs::log(obs::Level::Info, "session kicked", {{"sub", key.sub}, {"sid", key.sid}});
        sessions->store_for(*ex->worker()).kick(key, [ex](bool was_live) {
          if (was_live)
            ex->respond(200, {{"Content-Type", "application/json"}}, "{\"kicked\":true}\n");
          else
            ex->respond_error(404, "no-such-session");
        });
      },
      accepts);
}

}  // namespace cdn::edge
