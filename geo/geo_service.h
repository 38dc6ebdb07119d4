#pragma once
// The steering side of a running cdn-geo: builds the state from the `geo:` config, polls the
// edges, watches the data files, and on SIGHUP installs the config's re-read `geo:` section (sites,
// edges, zone, files), swapping everything at once; edges that stay keep their health. Any error
// keeps the running state.
#include <memory>
#include <string>

#include "common/util/result.h"
#include "geo/current_geo.h"
#include "geo/data_watcher.h"
#include "geo/health_poller.h"

namespace cdn::geo {

class GeoService {
 public:
  static Result<std::unique_ptr<GeoService>> start(std::shared_ptr<const GeoConfig> cfg);
  ~GeoService();
  CurrentGeo& current() { return current_; }
  // Reads and checks the `geo:` section of the config file (a reload's first step).
  static Result<std::shared_ptr<const GeoConfig>> read_config(const std::string& config_path);
  // Builds the state from `cfg` and makes it the current one.
  Result<void> install(std::shared_ptr<const GeoConfig> cfg);
  void stop();

 private:
  // One generation: its state, and the poller and watcher that work for it (destroyed first).
  struct Running {
    std::shared_ptr<const GeoState> state;
    std::unique_ptr<DataWatcher> watcher;
    std::unique_ptr<HealthPoller> poller;
  };
  CurrentGeo current_;
  // Declared before running_, so the pollers that write it stop first.
  std::shared_ptr<FleetHistory> history_ = std::make_shared<FleetHistory>();
  FleetHistory origin_history_;  // for the origins' request rates in /state
  std::unique_ptr<Running> running_;
};

}  // namespace cdn::geo
