#pragma once
// Builds a ServiceTable from a whole configuration: per delivery service (or the one implicit
// service) its phases, upstream set and proxy core over the process's shared caches. Used at the
// start and by every reload, so both apply the same rules.
#include <atomic>
#include <functional>
#include <memory>

#include "common/config/server_config.h"
#include "common/proxy/service_table.h"

namespace cdn::cache {
class SurrogateIndex;
}
namespace cdn::runtime {
class Program;
}

namespace cdn::proxy {

// A tier's phases for one service of `cfg` (`service` null: the implicit service, whose
// settings are the top-level sections; `index` is its place in cfg.services).
using MakePhases = std::function<Result<std::unique_ptr<Phases>>(
    runtime::Program&, const config::ServerConfig& cfg, const config::ServiceConfig* service,
    size_t index)>;

// What every service's core shares with the others.
struct SharedParts {
  cache::MemoryTier* memory = nullptr;
  cache::DiskTier* disk = nullptr;  // may be null
  cache::SurrogateIndex* surrogates = nullptr;
  const std::atomic<uint64_t>* purge_seq = nullptr;  // fleet purges (may be null)
  ProxyCore::PurgeBarrier purge_barrier;             // shield with a fleet (may be empty)
  bool strip_surrogate_keys = true;
};

Result<std::shared_ptr<const ServiceTable>> build_service_table(runtime::Program& p,
                                                                const config::ServerConfig& cfg,
                                                                const MakePhases& make_phases,
                                                                const SharedParts& shared);

}  // namespace cdn::proxy
