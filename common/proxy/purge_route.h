#pragma once
// POST /admin/purge?url=… | ?prefix=… on a caching tier's admin loop: forwards the purge to the
// upstream tier first (when configured), then purges here on a job thread, off every event loop
// (a prefix purge scans RocksDB), and answers with each tier's result.
#include "common/proxy/purge_forwarder.h"
#include "common/runtime/program.h"

namespace cdn::cache {
class ThreadPool;
}

namespace cdn::proxy {

class ProxyCore;
class Phases;

struct PurgeRouteDeps {
  ProxyCore* core;
  Phases* phases;             // may be null
  PurgeForwarder* forwarder;  // may be null: no forwarding
  cache::ThreadPool* jobs;    // where the local purge runs
  std::string node;           // this node's name, for the answer
};

void add_purge_route(runtime::Program& p, PurgeRouteDeps deps);

}  // namespace cdn::proxy
