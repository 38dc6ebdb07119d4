// cdn-shield: the mid tier. The proxy core with no viewer-facing phases; upstream = origins with
// primary/backup failover.
#include "common/proxy/proxy_program.h"

int main(int argc, char** argv) {
  cdn::proxy::TierHooks hooks;
  hooks.make_phases = [](cdn::runtime::Program&, const cdn::config::ServerConfig&,
                         const cdn::config::ServiceConfig*,
                         size_t) -> cdn::Result<std::unique_ptr<cdn::proxy::Phases>> {
    return std::unique_ptr<cdn::proxy::Phases>(std::make_unique<cdn::proxy::DefaultPhases>());
  };
  return cdn::proxy::run_proxy_program(argc, argv, "cdn-shield", cdn::config::Tier::Shield, std::move(hooks));
}
