// cdn-geo: sends every viewer to the best healthy edge. Locates the viewer (coverage zones,
// MaxMind, default site), polls every edge's health, and answers HTTP with a 302 to the chosen
// edge; GET /state and /steer on the admin listener explain what it sees and decides.
#include <memory>

#include "common/config/reader.h"
#include "common/obs/log.h"
#include "common/runtime/program.h"
#include "geo/data_watcher.h"
#if CDN_GEO_DNS
#include "geo/dns_service.h"
#endif
#include "geo/geo_config.h"
#include "geo/health_poller.h"
#include "geo/http_steering.h"
#include "geo/steering_core.h"

namespace {

struct Geo {
  std::shared_ptr<cdn::geo::GeoConfig> cfg = std::make_shared<cdn::geo::GeoConfig>();
  std::shared_ptr<cdn::geo::SteeringCore> core;  // shared with the DNS server's zone getter
  std::unique_ptr<cdn::geo::HealthPoller> poller;
  std::unique_ptr<cdn::geo::DataWatcher> watcher;  // runs on the poller's loop
  std::unique_ptr<cdn::geo::HttpSteering> http;
#if CDN_GEO_DNS
  std::unique_ptr<cdn::geo::DnsService> dns;
#endif
};

// The DNS side (geo/dns) is linked when its library is part of the build.
cdn::Result<void> start_dns(Geo& geo, cdn::runtime::Program& p) {
#if CDN_GEO_DNS
  auto dns = cdn::geo::DnsService::start(*geo.cfg, geo.core, p.worker_count());
  if (!dns) return dns.error();
  geo.dns = std::move(dns.value());
  return {};
#else
  (void)p;
  if (!geo.cfg->dns_listen.empty()) return cdn::Error{"dns_listen: this cdn-geo was built without its DNS server (geo/dns)"};
  return {};
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cdn;
  auto geo = std::make_shared<Geo>();
  runtime::Program program("cdn-geo", config::Tier::Geo);
  runtime::Program::Hooks hooks;
  hooks.extra_sections = [geo](config::MapReader& root) {
    if (!root.has("geo")) root.error("geo section is required for cdn-geo");
    geo::read_geo_section(root, *geo->cfg);
  };
  hooks.setup = [geo](runtime::Program& p) -> Result<http::RequestHandler*> {
    auto data = geo::load_locator_data(*geo->cfg);
    if (!data) return data.error();
    geo->core = std::make_shared<geo::SteeringCore>(geo->cfg, std::move(data.value()));
    if (auto r = start_dns(*geo, p); !r) return r.error();
    geo->poller = std::make_unique<geo::HealthPoller>(*geo->core);
    geo->watcher = std::make_unique<geo::DataWatcher>(geo->core->locator(), *geo->cfg);
    geo->poller->also_every_interval([w = geo->watcher.get()] { w->check(); });
    geo->poller->start();
    geo->http = std::make_unique<geo::HttpSteering>(*geo->core);
    geo::add_geo_admin_routes(p.admin(), *geo->core);
    return static_cast<http::RequestHandler*>(geo->http.get());
  };
  hooks.on_reload = [geo](runtime::Program&) {
    if (auto r = geo->core->locator().reload(*geo->cfg); !r)
      obs::log(obs::Level::Error, "geo reload failed, keeping the old coverage zones and MaxMind data",
               {{"trigger", "sighup"}, {"error", r.error().message}});
    else
      obs::log(obs::Level::Info, "geo data reloaded", {{"trigger", "sighup"}});
  };
  hooks.on_shutdown = [geo](runtime::Program&) {
#if CDN_GEO_DNS
    if (geo->dns) geo->dns->stop();
#endif
    if (geo->poller) geo->poller->stop();
  };
  return program.main(argc, argv, std::move(hooks));
}
