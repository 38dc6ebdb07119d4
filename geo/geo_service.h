#pragma once
// The steering side of a running cdn-geo: builds the state from the `geo:` config, polls the
// edges, watches the data files, and on SIGHUP re-reads the config's `geo:` section (sites, edges,
// zone, files) and swaps everything at once; edges that stay keep their health. Any error keeps
// the running state.
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
  // Re-reads `geo:` from the config file. `dns_listen` changes need a restart (reported).
  Result<void> reload(const std::string& config_path);
  void stop();

 private:
  // One generation: its state, and the poller and watcher that work for it (destroyed first).
  struct Running {
    std::shared_ptr<const GeoState> state;
    std::unique_ptr<DataWatcher> watcher;
    std::unique_ptr<HealthPoller> poller;
  };
  Result<void> install(std::shared_ptr<const GeoConfig> cfg);

  CurrentGeo current_;
  std::unique_ptr<Running> running_;
};

}  // namespace cdn::geo
