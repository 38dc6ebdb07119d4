// cdn-geo: sends every viewer to the best healthy edge. Locates the viewer (coverage zones,
// MaxMind, default site), polls every edge's health, answers DNS (with geo/dns) and HTTP with a
// 302 to the chosen edge; GET /state and /steer on the admin listener explain what it sees and
// decides. SIGHUP re-reads the `geo:` section and the data files and moves the DNS listeners.
#include <memory>

#include "common/config/reader.h"
#include "common/obs/log.h"
#include "common/runtime/program.h"
#include "geo/dns_service.h"
#include "geo/geo_config.h"
#include "geo/geo_service.h"
#include "geo/http_steering.h"

namespace {

struct Geo {
  std::shared_ptr<cdn::geo::GeoConfig> cfg = std::make_shared<cdn::geo::GeoConfig>();  // as started
  std::unique_ptr<cdn::geo::GeoService> service;
  std::unique_ptr<cdn::geo::HttpSteering> http;
  std::unique_ptr<cdn::geo::DnsService> dns;
};

cdn::Result<void> start_dns(Geo& geo, cdn::runtime::Program& p) {
  auto dns = cdn::geo::DnsService::start(*geo.cfg, geo.service->current(), p.worker_count());
  if (!dns) return dns.error();
  geo.dns = std::move(dns.value());
  return {};
}

// SIGHUP: the new `geo:` section, with its DNS listeners bound before anything is swapped, so a
// reload that fails anywhere leaves everything as it was.
cdn::Result<void> reload(Geo& geo, const std::string& config_path) {
  auto cfg = cdn::geo::GeoService::read_config(config_path);
  if (!cfg) return cfg.error();
  if (auto r = geo.dns->prepare(**cfg); !r) return r.error();
  if (auto r = geo.service->install(*cfg); !r) {
    geo.dns->abandon();
    return r.error();
  }
  geo.dns->commit(**cfg);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cdn;
  auto geo = std::make_shared<Geo>();
  runtime::Program program("cdn-geo", config::Tier::Geo);
  runtime::Program::Hooks hooks;
  hooks.extra_sections = [geo](config::MapReader& root) { geo::read_geo_section(root, *geo->cfg); };
  hooks.setup = [geo](runtime::Program& p) -> Result<http::RequestHandler*> {
    auto service = geo::GeoService::start(geo->cfg);
    if (!service) return service.error();
    geo->service = std::move(service.value());
    if (auto r = start_dns(*geo, p); !r) return r.error();
    geo->http = std::make_unique<geo::HttpSteering>(geo->service->current());
    geo::add_geo_admin_routes(p.admin(), geo->service->current());
    return static_cast<http::RequestHandler*>(geo->http.get());
  };
  hooks.on_reload = [geo](runtime::Program& p) {
    if (auto r = reload(*geo, p.config_path()); !r)
      obs::log(obs::Level::Error,
               "geo reload failed, keeping the old sites, edges, coverage zones, MaxMind data and "
               "DNS listeners",
               {{"trigger", "sighup"}, {"error", r.error().message}});
    else
      obs::log(obs::Level::Info, "geo reloaded", {{"trigger", "sighup"}});
  };
  hooks.on_shutdown = [geo](runtime::Program&) {
    if (geo->dns) geo->dns->stop();
    if (geo->service) geo->service->stop();
  };
  return program.main(argc, argv, std::move(hooks));
}
