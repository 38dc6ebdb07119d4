// geo/dns/steering.h
#pragma once
// What the DNS server asks the steering core for one query, and what it gets back. The DNS side
// owns the wire format, ECS validation (FORMERR, private addresses ignored, source prefix 0) and
// the zone's fixed records; the steering side owns locating the viewer and choosing edges.
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::geo {

struct ClientSubnet {          // a validated ECS option (RFC 7871)
  int family = 0;              // AF_INET or AF_INET6
  uint8_t source_prefix = 0;   // > 0 (0 is handled by the DNS side: resolver address, scope 0)
  sockaddr_storage address{};  // bits past source_prefix are zero
};

struct SteerQuery {
  std::string_view host;            // delivery host name, lowercase, absolute without trailing dot
  int family = AF_INET;             // AF_INET for A, AF_INET6 for AAAA
  sockaddr_storage resolver{};      // the query's source address
  std::optional<ClientSubnet> ecs;  // present when the query carried a usable ECS option
};

// An address as it goes on the wire: 4 bytes (IPv4) or 16 (IPv6).
struct WireAddress {
  uint8_t len = 0;
  std::array<uint8_t, 16> bytes{};
};
// `text` as a wire address of `family`; nullopt when it is not one.
std::optional<WireAddress> wire_address(const std::string& text, int family);
// The addresses among `texts` that are of `family`, in order.
std::vector<WireAddress> wire_addresses(const std::vector<std::string>& texts, int family);

struct SteerAnswer {
  static constexpr size_t kMaxGroups = 16;  // records_per_answer's bound
  // The chosen edges' addresses of the query's family, one group per edge, best edge first. The
  // spans point into the Steering's own immutable data, which the caller keeps alive while it
  // writes the answer (DnsZone), so an answer copies and allocates nothing.
  std::array<std::span<const WireAddress>, kMaxGroups> groups{};
  size_t group_count = 0;
  uint32_t ttl = 30;
  // ECS scope: the prefix of the coverage zone or MaxMind network that decided.
  uint8_t scope_prefix = 0;

  void add(std::span<const WireAddress> g) {
    if (group_count < kMaxGroups && !g.empty()) groups[group_count++] = g;
  }
  bool empty() const { return group_count == 0; }
};

// The zone as the DNS side serves it (built from cdn-geo's config by h10-geo).
struct ZoneConfig {
  std::string zone;                   // e.g. "cdn.example" (lowercase, no trailing dot)
  std::vector<std::string> ns_names;  // absolute NS target names, e.g. "ns1.cdn.example"
  std::vector<std::pair<std::string, std::string>> ns_glue;  // (name, IP) for in-zone NS names
  std::string soa_rname = "hostmaster";  // relative to the zone unless it contains a dot
  uint32_t soa_serial = 1, soa_refresh = 3600, soa_retry = 600, soa_expire = 86400,
           soa_minimum = 30;
  uint32_t apex_ttl = 3600;
  std::vector<std::string> delivery_hosts;  // absolute names answered by steering (A/AAAA)
  std::vector<bool> delivery_use_ecs;       // per delivery host: honour ECS (else resolver address)
  // Per-edge names "<edge>.<zone>": (absolute name, IPv4 list, IPv6 list).
  struct EdgeName {
    std::string name;
    std::vector<std::string> v4, v6;
  };
  std::vector<EdgeName> edge_names;
  uint32_t edge_name_ttl = 300;
};

class Steering {
 public:
  virtual ~Steering() = default;
  // Called on a DNS worker's loop thread for every A/AAAA query of a delivery host; must not block
  // (no I/O); thread-safe. An empty answer means NODATA for that family (no edge has one).
  virtual SteerAnswer steer(const SteerQuery& q) const = 0;
};

}  // namespace cdn::geo
