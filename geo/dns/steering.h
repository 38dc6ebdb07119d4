// geo/dns/steering.h
#pragma once
// What the DNS server asks the steering core for one query, and what it gets back. The DNS side
// owns the wire format, ECS validation (FORMERR, private addresses ignored, source prefix 0) and the
// zone's fixed records; the steering side owns locating the viewer and choosing edges.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdn::geo {

struct ClientSubnet {        // a validated ECS option (RFC 7871)
  int family = 0;            // AF_INET or AF_INET6
  uint8_t source_prefix = 0; // > 0 (0 is handled by the DNS side: resolver address, scope 0)
  sockaddr_storage address{};// bits past source_prefix are zero
};

struct SteerQuery {
  std::string host;                   // delivery host name, lowercase, absolute without trailing dot
  int family = AF_INET;               // AF_INET for A, AF_INET6 for AAAA
  sockaddr_storage resolver{};        // the query's source address
  std::optional<ClientSubnet> ecs;    // present when the query carried a usable ECS option
};

struct SteerAnswer {
  std::vector<std::string> addresses;  // textual IPs of the chosen edges' `family` addresses
  uint32_t ttl = 30;
  uint8_t scope_prefix = 0;  // ECS scope: prefix of the coverage zone / MaxMind network that decided
};

// The zone as the DNS side serves it (built from cdn-geo's config by h10-geo).
struct ZoneConfig {
  std::string zone;                     // e.g. "cdn.example" (lowercase, no trailing dot)
  std::vector<std::string> ns_names;    // absolute NS target names, e.g. "ns1.cdn.example"
  std::vector<std::pair<std::string, std::string>> ns_glue;  // (name, IP) for in-zone NS names
  std::string soa_rname = "hostmaster";  // relative to the zone unless it contains a dot
  uint32_t soa_serial = 1, soa_refresh = 3600, soa_retry = 600, soa_expire = 86400, soa_minimum = 30;
  uint32_t apex_ttl = 3600;
  std::vector<std::string> delivery_hosts;  // absolute names answered by steering (A/AAAA)
  std::vector<bool> delivery_use_ecs;       // per delivery host: honour ECS (else resolver address)
  // Per-edge names "<edge>.<zone>": (absolute name, IPv4 list, IPv6 list).
  struct EdgeName { std::string name; std::vector<std::string> v4, v6; };
  std::vector<EdgeName> edge_names;
  uint32_t edge_name_ttl = 300;
};

class Steering {
 public:
  virtual ~Steering() = default;
  // Called on a DNS worker's loop thread for every A/AAAA query of a delivery host; must not block
  // (no I/O); thread-safe. An empty `addresses` means NODATA for that family (no edge has one).
  virtual SteerAnswer steer(const SteerQuery& q) const = 0;
};

}  // namespace cdn::geo
