#include "geo/http_steering.h"

#include <algorithm>

#include "common/http/query.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/util/strings.h"
#include "geo/fleet_page.h"

namespace cdn::geo {

namespace {

void refuse(const std::shared_ptr<http::Exchange>& ex, int status, const char* reason) {
  obs::metrics()
      .counter("cdn_geo_http_errors_total", "HTTP steering requests refused, by reason",
               {{"reason", reason}})
      .inc();
  ex->respond_error(status, reason);
}

void json(const std::shared_ptr<http::Exchange>& ex, int status, const std::string& body) {
  ex->respond(status, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}, body);
}

}  // namespace

void HttpSteering::handle(const std::shared_ptr<http::Exchange>& ex) {
  const http::Request& r = ex->request();
  std::shared_ptr<const GeoState> state = current_.get();
  const SteeringCore& core = *state->core;
  const GeoConfig& cfg = *state->cfg;
  bool delivery = std::any_of(cfg.delivery_hosts.begin(), cfg.delivery_hosts.end(),
                              [&](const DeliveryHost& d) { return d.name == r.host; });
  if (!delivery) return refuse(ex, 421, "unknown-host");
  if (r.method != "GET" && r.method != "HEAD") return refuse(ex, 405, "method-not-allowed");
  auto addr = parse_ip(ex->client_ip());
  if (!addr) return refuse(ex, 400, "bad-client-address");
  Decision d = core.decide(*addr, AddressSource::Viewer, r.path, 0, true, false);
  std::string url = core.redirect_url(d, r.target);
  if (url.empty()) return refuse(ex, 503, "no-available-edge");
  ex->respond(302,
              {{"Location", url},
               {"Cache-Control", "no-store"},
               {"Content-Type", "text/plain; charset=utf-8"}},
              "302 " + url + "\n");
}

void add_geo_admin_routes(runtime::AdminApi& admin, const CurrentGeo& current) {
  add_fleet_page_routes(admin);
  admin.add_public_read("/state", [&current](const std::shared_ptr<http::Exchange>& ex) {
    json(ex, 200, current.get()->core->state_json());
  });
  admin.add_public_read("/steer", [&current](const std::shared_ptr<http::Exchange>& ex) {
    std::shared_ptr<const GeoState> state = current.get();
    const SteeringCore& core = *state->core;
    const std::string& q = ex->request().query;
    auto ip = http::query_value(q, "ip");
    if (!ip || ip->empty()) return refuse(ex, 400, "steer-needs-ip");
    auto addr = parse_ip(*ip);
    if (!addr) return refuse(ex, 400, "steer-bad-ip");
    std::string target = http::query_value(q, "path").value_or("");
    if (!target.empty() && target.front() != '/') return refuse(ex, 400, "steer-bad-path");
    std::string path = target.substr(0, target.find('?'));  // the key never includes the token
    int family = 0;
    if (auto f = http::query_value(q, "family"))
      family = *f == "6" ? AF_INET6 : *f == "4" ? AF_INET : 0;
    Decision d = core.decide(*addr, AddressSource::Viewer, path, family, false);
    std::string body = core.decision_json(d);
    if (!path.empty())
      body.insert(body.size() - 1,
                  ",\"redirect\":\"" + obs::json_escape(core.redirect_url(d, target)) + "\"");
    json(ex, 200, body + "\n");
  });
}

}  // namespace cdn::geo
