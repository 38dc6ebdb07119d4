#pragma once
// Wires the proxy core into a server program: caches from config, the upstream set, purge on the
// admin API, cache metrics. cdn-edge and cdn-shield are this plus their own Phases.
#include <functional>
#include <memory>

#include "common/proxy/phases.h"
#include "common/runtime/program.h"

namespace cdn::proxy {

// Builds the tier's phases once the configuration is loaded (and validated).
using PhasesFactory = std::function<Result<std::unique_ptr<Phases>>(runtime::Program&)>;

// Runs a caching tier until SIGTERM; returns the process exit code.
int run_proxy_program(int argc, char** argv, const char* name, config::Tier tier, PhasesFactory make_phases);

// "http://host[:port]/path?q", "host/path?q" or "/path" (with default_host) → host, path, query.
struct ParsedUrl {
  std::string host, path, query;
};
bool parse_purge_url(std::string_view url, ParsedUrl& out);

}  // namespace cdn::proxy
