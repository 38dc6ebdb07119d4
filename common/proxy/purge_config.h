#pragma once
// The `purge:` section of a caching tier: where a purge is forwarded before it runs here. A
// shield's admin listener is not its viewer listener, so the upstream admins are a list of their
// own rather than derived from `upstream.servers`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/client_tls.h"
#include "common/config/parse_units.h"

namespace cdn::config {
class MapReader;
}

namespace cdn::proxy {

// `purge.redis:` the fleet's purge feed (fleet_purge.h). Set: every purge goes to the whole fleet
// through Redis, and upstream_admins forwarding is not used.
struct FleetPurgeConfig {
  config::HostPort address;
  std::string channel = "cdn:purge";          // pub/sub channel of new purges
  std::string stream = "cdn:purge:stream";    // the short stream a reconnecting node replays
  std::string key_prefix = "cdn:purge:";      // counter, node heartbeats, applied-by records
  std::string username, password;             // AUTH (an ACL user, or requirepass alone)
  int64_t stream_max_len = 1000;              // purges kept for replay (approximate trim)
  int64_t wait_ms = 2'000;                    // an admin purge waits this long for every live node
  int64_t heartbeat_ms = 500;                 // how often a node says it is alive
  int64_t node_timeout_ms = 3'000;            // a node silent for longer is not waited for
  int64_t command_timeout_ms = 1'000;
  int64_t barrier_timeout_ms = 1'000;         // a refill waits this long for its purge here
};

struct PurgeConfig {
  bool forward_to_upstreams = true;               // only matters when upstream_admins is not empty
  // The upstream tier's admin listeners: "host:port" or "http://host:port", or "https://host:port"
  // over TLS, verified and (mTLS) shown our certificate with admin_client.
  std::vector<config::AdminUrl> upstream_admins;
  config::ClientTlsConfig admin_client;
  std::string upstream_admin_token;               // empty = this node's own admin.token
  int64_t forward_timeout_ms = 10'000;            // per upstream: connect, first byte, idle
  // Drop Surrogate-Key / Cache-Tag from responses; unset = by tier (the edge strips, the shield
  // passes them on so its edges can index them).
  std::optional<bool> strip_surrogate_keys;
  std::optional<FleetPurgeConfig> redis;
};

// Reads `purge:` from the root map if present; problems are reported through the reader.
void read_purge_section(config::MapReader& root, PurgeConfig& out);

}  // namespace cdn::proxy
