#include "geo/geo_service.h"

#include "common/config/reader.h"
#include "common/config/server_config.h"

namespace cdn::geo {

Result<std::unique_ptr<GeoService>> GeoService::start(std::shared_ptr<const GeoConfig> cfg) {
  std::unique_ptr<GeoService> s(new GeoService());
  if (auto r = s->install(std::move(cfg)); !r) return r.error();
  return s;
}

GeoService::~GeoService() {
  stop();
}

void GeoService::stop() {
  running_.reset();
}

Result<void> GeoService::install(std::shared_ptr<const GeoConfig> cfg) {
  auto data = load_locator_data(*cfg);
  if (!data) return data.error();
  auto tls = admin_client_tls(*cfg);
  if (!tls) return tls.error();
  auto core = std::make_shared<SteeringCore>(cfg, std::move(data.value()));
  if (running_) core->seed_health(*running_->state->cfg, *running_->state->core->health());
  auto next = std::make_unique<Running>();
  next->state = std::make_shared<const GeoState>(
      GeoState{cfg, core, std::make_shared<const ZoneConfig>(make_zone_config(*cfg)), history_});
  next->watcher = std::make_unique<DataWatcher>(core->locator(), *cfg);
  next->poller =
      std::make_unique<HealthPoller>(*core, *history_, origin_history_, std::move(tls.value()));
  next->poller->also_every_interval([w = next->watcher.get()] { w->check(); });
  next->poller->start();
  current_.set(next->state);
  running_ =
      std::move(next);  // the previous generation stops polling here; readers keep its state alive
  // After the old poller stopped, so it cannot record a removed edge again.
  std::vector<std::string> names;
  for (const auto& e : cfg->edges) names.push_back(e.name);
  history_->retain(names);
  names.clear();
  for (const auto& o : cfg->origins) names.push_back(o.name);
  origin_history_.retain(names);
  return {};
}

Result<std::shared_ptr<const GeoConfig>> GeoService::read_config(const std::string& config_path) {
  auto cfg = std::make_shared<GeoConfig>();
  auto parsed = config::load_server_config(
      config_path, [&](config::MapReader& root) { read_geo_section(root, *cfg); });
  if (!parsed) return parsed.error();
  if (parsed->tier != config::Tier::Geo) return Error{config_path + ": tier is no longer geo"};
  return std::shared_ptr<const GeoConfig>(std::move(cfg));
}

}  // namespace cdn::geo
