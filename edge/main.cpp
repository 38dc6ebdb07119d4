// cdn-edge: the viewer-facing tier. The proxy core plus the edge phases; upstream = the shield
// pool, chosen per key by rendezvous hashing.
#include "common/proxy/proxy_program.h"
#include "edge/edge_phases.h"

int main(int argc, char** argv) {
  cdn::proxy::TierHooks hooks;
  hooks.make_phases = [](cdn::runtime::Program& p) -> cdn::Result<std::unique_ptr<cdn::proxy::Phases>> {
    return std::unique_ptr<cdn::proxy::Phases>(std::make_unique<cdn::edge::EdgePhases>(p.config().cache.token_param));
  };
  return cdn::proxy::run_proxy_program(argc, argv, "cdn-edge", cdn::config::Tier::Edge, std::move(hooks));
}
