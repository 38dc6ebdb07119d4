#pragma once
// What a running cdn-geo steers with, swapped whole on SIGHUP: the `geo:` config, the steering
// core built from it (locator data and edge health) and the DNS zone. Readers take one snapshot
// per request or query and keep it alive while they use it.
#include <atomic>
#include <memory>

#include "geo/dns/steering.h"
#include "geo/edge_history.h"
#include "geo/geo_config.h"
#include "geo/steering_core.h"

namespace cdn::geo {

struct GeoState {
  std::shared_ptr<const GeoConfig> cfg;
  std::shared_ptr<SteeringCore> core;
  std::shared_ptr<const ZoneConfig> zone;
  std::shared_ptr<const FleetHistory> history;  // the same object in every generation
};

class CurrentGeo {
 public:
  std::shared_ptr<const GeoState> get() const { return state_.load(); }
  void set(std::shared_ptr<const GeoState> s) { state_.store(std::move(s)); }

 private:
  std::atomic<std::shared_ptr<const GeoState>> state_;
};

}  // namespace cdn::geo
