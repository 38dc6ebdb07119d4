// cdn-edge: the viewer-facing tier. The proxy core plus the edge phases (access gate, token
// propagation and renewal, CORS); upstream = the shield pool, chosen per key by rendezvous hashing.
// Each delivery service gets its own phases from its own `access:` (or the top-level one); a
// reload builds them anew (new keys, new rules) over the same stream sessions, which then take
// the new sessions settings.
#include <optional>
#include <vector>

#include "common/proxy/proxy_program.h"
#include "common/proxy/service_metrics.h"
#include "edge/access_config.h"
#include "edge/edge_phases.h"

namespace {

using cdn::edge::AccessConfig;
using cdn::edge::EdgePhases;

// Filled while a config loads (at the start and on every reload), read when the phases are built.
struct EdgeAccess {
  AccessConfig top;                                     // the top-level `access:`
  std::vector<std::optional<AccessConfig>> of_service;  // a service's own, by index
  // The stream sessions: one set for the process, made by the first phases that need them, with
  // that service's sessions settings; the session admin routes and /healthz fields read it.
  std::shared_ptr<cdn::edge::Sessions> sessions;
  // The access settings of the first service with sessions in the config being built: what a
  // reload hands the sessions once its services serve.
  std::optional<AccessConfig> sessions_settings;
  cdn::edge::ServiceOfToken service_of_token;  // for the session admin routes
};

cdn::Result<std::unique_ptr<cdn::proxy::Phases>> make_edge_phases(
    EdgeAccess& a, cdn::runtime::Program& p, const cdn::config::ServerConfig& cfg,
    const cdn::config::ServiceConfig* service, size_t index) {
  std::vector<cdn::proxy::MethodRule> rules;
  for (auto& r : cfg.proxy.methods) rules.push_back({r.match, r.allow});
  const std::string& token_param = service ? service->cache.token_param : cfg.cache.token_param;
  const AccessConfig& access =
      service && index < a.of_service.size() && a.of_service[index] ? *a.of_service[index] : a.top;
  if (index == 0) a.sessions_settings.reset();  // a new build begins
  std::unique_ptr<EdgePhases> phases;
  if (!access.present) {
    phases = std::make_unique<EdgePhases>(token_param);
  } else {
    // One session store slot per loop: the admin routes (list, kick) run on the admin loop.
    auto made = EdgePhases::create(access, token_param, p.loop_count(), a.sessions);
    if (!made) return made.error();
    phases = std::move(made.value());
    const bool first_sessions = !a.sessions && phases->sessions();
    phases->start(p, first_sessions, a.service_of_token);
    if (first_sessions) a.sessions = phases->sessions();
    if (phases->sessions() && !a.sessions_settings) a.sessions_settings = access;
  }
  phases->set_method_rules(std::move(rules));
  if (service) phases->set_service(service->name, cdn::proxy::capped_service_label(service->name));
  return std::unique_ptr<cdn::proxy::Phases>(std::move(phases));
}

}  // namespace

int main(int argc, char** argv) {
  auto access = std::make_shared<EdgeAccess>();
  cdn::proxy::TierHooks hooks;
  hooks.extra_sections = [access](cdn::config::MapReader& root) {
    access->top = AccessConfig{};
    cdn::edge::read_access_section(root, access->top);
  };
  hooks.service_sections = [access](cdn::config::MapReader& service, size_t index) {
    if (index == 0) access->of_service.clear();
    if (access->of_service.size() <= index) access->of_service.resize(index + 1);
    AccessConfig own;
    cdn::edge::read_access_section(service, own);
    if (own.present) access->of_service[index] = std::move(own);
  };
  hooks.make_phases = [access](cdn::runtime::Program& p, const cdn::config::ServerConfig& cfg,
                               const cdn::config::ServiceConfig* service, size_t index) {
    return make_edge_phases(*access, p, cfg, service, index);
  };
  hooks.service_tokens = [access](cdn::edge::ServiceOfToken f) {
    access->service_of_token = std::move(f);
  };
  hooks.after_reload = [access]() -> std::vector<std::string> {
    if (!access->sessions || !access->sessions_settings) return {};
    return access->sessions->reconfigure(*access->sessions_settings);
  };
  return cdn::proxy::run_proxy_program(argc, argv, "cdn-edge", cdn::config::Tier::Edge,
                                       std::move(hooks));
}
