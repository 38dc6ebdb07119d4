#pragma once
// Whole-config reload (SIGHUP, POST /admin/reload): the file is read again with the same
// validation; a config that fails is refused with its file:line reasons and the running one
// stays. Otherwise a new ServiceTable is built and swapped in: new requests use it while
// requests in flight finish under the table they started with, which is freed once no request
// holds it and no fill runs in it. What only a restart can change (listeners, workers, cache
// sizes and paths, admin) is reported as needing one and keeps its running value.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/proxy/service_build.h"
#include "common/proxy/service_router.h"

namespace cdn::proxy {

struct ReloadOutcome {
  bool ok = false;
  std::vector<std::string> errors;         // "file:line: message", one per problem
  std::vector<std::string> needs_restart;  // config keys whose change waits for a restart
  std::vector<std::string> services;       // the services serving now
};
std::string to_json(const ReloadOutcome& r);

// The keys of `next` that differ from `running` but cannot change in a running process.
std::vector<std::string> restart_only_changes(const config::ServerConfig& running,
                                              const config::ServerConfig& next);

class ServiceReloader {
 public:
  // `after_swap` (may be empty): the tier's own step once the new table serves; it returns
  // the tier's keys that wait for a restart.
  ServiceReloader(runtime::Program& p, ServiceRouter* router, MakePhases make_phases,
                  const SharedParts* shared,
                  std::function<std::vector<std::string>()> after_swap = {})
      : p_(p),
        router_(router),
        make_phases_(std::move(make_phases)),
        shared_(shared),
        after_swap_(std::move(after_swap)) {}
  // On the admin loop (the tier's admin routes and /healthz fields are that loop's).
  ReloadOutcome reload();
  // Frees replaced tables that nothing uses any more (each worker first closes their upstream
  // connections); on the admin loop. Runs after every reload and every /metrics render.
  void sweep();
  size_t retired() const { return retired_.size(); }

 private:
  runtime::Program& p_;
  ServiceRouter* router_;
  MakePhases make_phases_;
  const SharedParts* shared_;
  std::function<std::vector<std::string>()> after_swap_;
  std::vector<std::shared_ptr<const ServiceTable>> retired_;
};

}  // namespace cdn::proxy
