#pragma once
// Wires the proxy core into a server program: caches from config, the upstream set, purge on the
// admin API, cache metrics. cdn-edge and cdn-shield are this plus their own Phases.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/proxy/phases.h"
#include "common/proxy/service_build.h"
#include "common/runtime/program.h"

namespace cdn::proxy {

struct TierHooks {
  // Builds the tier's phases for each delivery service once the configuration is loaded (and
  // validated). Required.
  MakePhases make_phases;
  // The tier's own top-level config sections (e.g. the edge's "access:").
  config::ExtraSections extra_sections;
  // The tier's own keys of each service (e.g. the edge's per-service "access:").
  config::ServiceSections service_sections;
  // SIGHUP, after certificates and the access log (e.g. reload signing keys).
  std::function<void(runtime::Program&)> on_reload;
  // Given once, before the services are built: the check purge uses to name the delivery service
  // whose admin_token an Authorization value carries (empty: none), for a tier's own admin
  // routes scoped by service (the edge's session admin).
  std::function<void(std::function<std::string(std::string_view authorization)>)> service_tokens;
  // After a reload swapped the new services in: the tier applies what it keeps across reloads
  // (the edge's stream-session settings) and returns the keys of it that wait for a restart.
  std::function<std::vector<std::string>()> after_reload;
};

// Runs a caching tier until SIGTERM; returns the process exit code.
int run_proxy_program(int argc, char** argv, const char* name, config::Tier tier, TierHooks tier_hooks);

// "http://host[:port]/path?q" or "host/path?q" → host (lowercased, no port), path, query.
struct ParsedUrl {
  std::string host, path, query;
};
bool parse_purge_url(std::string_view url, ParsedUrl& out);

}  // namespace cdn::proxy
