// cdn-edge: the viewer-facing tier. The proxy core plus the edge phases (access gate, token
// propagation and renewal, CORS); upstream = the shield pool, chosen per key by rendezvous hashing.
#include "common/proxy/proxy_program.h"
#include "edge/access_config.h"
#include "edge/edge_phases.h"

int main(int argc, char** argv) {
  using cdn::edge::EdgePhases;
  // Filled while the config loads, read when the phases are built.
  auto access = std::make_shared<cdn::edge::AccessConfig>();
  auto phases = std::make_shared<EdgePhases*>(nullptr);
  cdn::proxy::TierHooks hooks;
  hooks.extra_sections = [access](cdn::config::MapReader& root) { cdn::edge::read_access_section(root, *access); };
  hooks.make_phases =
      [access,
       phases](cdn::runtime::Program& p) -> cdn::Result<std::unique_ptr<cdn::proxy::Phases>> {
    std::vector<cdn::proxy::MethodRule> rules;
    for (auto& r : p.config().proxy.methods) rules.push_back({r.match, r.allow});
    if (!access->present) {
      auto plain = std::make_unique<EdgePhases>(p.config().cache.token_param);
      plain->set_method_rules(std::move(rules));
      return std::unique_ptr<cdn::proxy::Phases>(std::move(plain));
    }
    // One session store slot per loop: the admin routes (list, kick) run on the admin loop.
    auto made = EdgePhases::create(*access, p.config().cache.token_param, p.loop_count());
    if (!made) return made.error();
    made.value()->set_method_rules(std::move(rules));
    made.value()->start(p);
    *phases = made.value().get();
    return std::unique_ptr<cdn::proxy::Phases>(std::move(made.value()));
  };
  hooks.on_reload = [phases](cdn::runtime::Program&) {
    if (*phases) (*phases)->reload();
  };
  return cdn::proxy::run_proxy_program(argc, argv, "cdn-edge", cdn::config::Tier::Edge, std::move(hooks));
}
