#pragma once
// POST /admin/purge?url=… | ?prefix=… | ?key=… [&soft=1] on a caching tier's admin loop. With a
// fleet (purge.redis) the purge goes to every node through Redis (fleet_purge.h); otherwise it is
// forwarded to the upstream tier first (when configured), then run here on a job thread, off every
// event loop (a prefix purge scans RocksDB), and the answer has each tier's result.
#include <memory>
#include <optional>

#include "common/proxy/purge_forwarder.h"
#include "common/proxy/purge_spec.h"
#include "common/runtime/program.h"

namespace cdn::cache {
class ThreadPool;
}

namespace cdn::proxy {

class ServicePurge;

// Takes over a purge request for the fleet; false when it does not (then the node purges alone).
class FleetPurgeSubmitter {
 public:
  virtual ~FleetPurgeSubmitter() = default;
  virtual bool submit(const std::shared_ptr<http::Exchange>& ex, const PurgeSpec& spec) = 0;
};

struct PurgeRouteDeps {
  const ServicePurge* services;          // picks the service(s) a purge applies to
  PurgeForwarder* forwarder;             // may be null: no forwarding
  cache::ThreadPool* jobs;               // where the local purge runs
  std::string node;                      // this node's name, for the answer
  FleetPurgeSubmitter* fleet = nullptr;  // may be null: no fleet
};

void add_purge_route(runtime::Program& p, PurgeRouteDeps deps);

// cdn_purges_total{kind,scope}: kind is url|prefix|key, scope node|fleet.
void count_purge(const PurgeSpec& spec, const char* scope);

}  // namespace cdn::proxy
