#include "geo/locator.h"

namespace cdn::geo {

const char* to_string(LocatedBy b) {
  switch (b) {
    case LocatedBy::Coverage:
      return "coverage";
    case LocatedBy::MaxMind:
      return "maxmind";
    case LocatedBy::Default:
      return "default";
  }
  return "?";
}

Result<std::shared_ptr<const LocatorData>> load_locator_data(const GeoConfig& cfg) {
  auto data = std::make_shared<LocatorData>();
  if (!cfg.coverage_zones.empty()) {
    std::vector<std::string> names;
    for (auto& s : cfg.sites) names.push_back(s.name);
    auto z = load_coverage_zones(cfg.coverage_zones, names);
    if (!z) return z.error();
    data->coverage = std::move(z.value());
  }
  if (!cfg.maxmind.empty()) {
    auto db = MaxMindDb::open(cfg.maxmind);
    if (!db) return db.error();
    data->maxmind = std::move(db.value());
  }
  return std::shared_ptr<const LocatorData>(std::move(data));
}

Location Locator::locate(const IpAddr& addr, const GeoConfig& cfg) const {
  std::shared_ptr<const LocatorData> d = data_.load();
  Location loc;
  if (d->coverage) {
    if (auto hit = d->coverage->lookup(addr)) {
      loc.by = LocatedBy::Coverage;
      loc.site = hit->site;
      loc.scope = hit->prefix;
      return loc;
    }
  }
  if (d->maxmind) {
    MaxMindMiss miss = MaxMindMiss::NotFound;
    if (auto hit = d->maxmind->lookup(to_sockaddr(addr), cfg.max_accuracy_radius_km, &miss)) {
      loc.by = LocatedBy::MaxMind;
      loc.lat = hit->lat;
      loc.lon = hit->lon;
      loc.accuracy_radius_km = hit->accuracy_radius_km;
      loc.scope = hit->prefix;
      return loc;
    }
    loc.maxmind_miss = to_string(miss);
  }
  loc.by = LocatedBy::Default;
  loc.site = cfg.default_site;
  return loc;
}

Result<void> Locator::reload(const GeoConfig& cfg) {
  auto d = load_locator_data(cfg);
  if (!d) return d.error();
  data_.store(std::move(d.value()));
  return {};
}

}  // namespace cdn::geo
