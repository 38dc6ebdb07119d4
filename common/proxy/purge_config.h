#pragma once
// The `purge:` section of a caching tier: where a purge is forwarded before it runs here. A
// shield's admin listener is not its viewer listener, so the upstream admins are a list of their
// own rather than derived from `upstream.servers`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/parse_units.h"

namespace cdn::config {
class MapReader;
}

namespace cdn::proxy {

struct PurgeConfig {
  bool forward_to_upstreams = true;               // only matters when upstream_admins is not empty
  std::vector<config::HostPort> upstream_admins;  // the upstream tier's admin listeners
  std::string upstream_admin_token;               // empty = this node's own admin.token
  int64_t forward_timeout_ms = 10'000;            // per upstream: connect, first byte, idle
  // Drop Surrogate-Key / Cache-Tag from responses; unset = by tier (the edge strips, the shield
  // passes them on so its edges can index them).
  std::optional<bool> strip_surrogate_keys;
};

// Reads `purge:` from the root map if present; problems are reported through the reader.
void read_purge_section(config::MapReader& root, PurgeConfig& out);

}  // namespace cdn::proxy
