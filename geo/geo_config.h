#pragma once
// cdn-geo's `geo:` config section: the zone it is authoritative for, the delivery hosts it steers,
// the sites and their edges, where viewers are located from, and how edges are health-checked.
//
//   geo:
//     zone:
//       name: cdn.example            # required; lowercase, no trailing dot
//       ns:                          # required, at least one; in-zone names need an address (glue)
//         - {name: ns1.cdn.example, address: 192.0.2.53}
//       soa: {rname: hostmaster, serial: 1, refresh: 1h, retry: 10m, expire: 1d, minimum: 30s}
//       apex_ttl: 1h                 # SOA and NS TTL (default 1h)
//       edge_name_ttl: 5m            # TTL of the per-edge names "<edge>.<zone>" (default 5m)
//     dns_listen: ["127.0.0.1:53"]   # UDP and TCP listeners of the DNS server (default: none)
//     dns:                           # the DNS listeners' limits (SIGHUP applies them)
//       tcp_max_connections: 1024    # open TCP connections over all workers; more close at accept
//       tcp_idle_timeout: 10s        # a TCP connection with no complete query this long closes
//       max_udp_payload: 1232        # our EDNS UDP payload size (512..4096); larger answers: TC
//     delivery_hosts:                # required, at least one; names inside the zone
//       - {name: video.cdn.example, use_ecs: true}   # use_ecs default true
//     sites:                         # required, at least one
//       - {name: fra, lat: 50.11, lon: 8.68}
//     edges:                         # required, at least one
//       - name: fra-1                # a DNS label: answered as fra-1.cdn.example
//         site: fra
//         ipv4: [192.0.2.10]         # at least one address of either family
//         ipv6: ["2001:db8::10"]
//         admin: http://192.0.2.10:9090   # the edge's admin listener (polled at /healthz);
//                                         # https://ip:port polls over TLS (see admin_client)
//         https_port: 443            # the port HTTP steering redirects to (default 443)
//         capacity: {connections: 20000, egress: 10000000000}  # egress in bit/s
//     origins:                       # optional: shown on the fleet page, never steered to
//       - {name: origin-1, admin: "http://192.0.2.5:9092"}   # polled at /healthz like the edges
//     admin_client:                  # for https:// admin addresses: the CA their certificates
//       ca: /etc/cdn/admin-ca.pem    #   chain to (default: the system's store), and our client
//       cert: /etc/cdn/geo.pem       #   certificate and key for admin listeners that ask for one
//       key: /etc/cdn/geo.key        #   (admin.tls.client_ca); a certificate's IP SAN must match
//     coverage_zones: /etc/cdn/coverage.txt   # optional: "CIDR site" per line, '#' comments
//     maxmind: /etc/cdn/GeoLite2-City.mmdb    # optional: a City database
//     default_site: fra              # optional: where unlocated viewers go (else the first site)
//     max_accuracy_radius: 200       # km; a MaxMind answer less precise than this is a miss
//     records_per_answer: 1          # edges per A/AAAA answer (default 1)
//     ttl: 30s                       # TTL of steered answers (default 30s)
//     health:
//       interval: 1s                 # how often every edge's /healthz is asked (default 1s)
//       timeout: 500ms               # per poll (default 500ms)
//       down_after: 3                # consecutive failures before an edge is down (default 3)
//       up_after: 2                  # consecutive successes before it is up again (default 2)
//       load_share: 0.9              # above this share of a capacity an edge takes no new viewers
#include <cstdint>
#include <string>
#include <vector>

#include "common/config/client_tls.h"
#include "common/config/parse_units.h"
#include "geo/dns/dns_options.h"
#include "geo/dns/steering.h"

namespace cdn::config {
class MapReader;
}

namespace cdn::geo {

struct SiteConfig {
  std::string name;
  double lat = 0, lon = 0;
};

struct EdgeConfig {
  std::string name;
  size_t site = 0;  // index into GeoConfig::sites
  std::vector<std::string> ipv4, ipv6;
  config::HostPort admin;  // from the admin URL http(s)://host:port
  bool admin_tls = false;  // https://: polled over TLS with GeoConfig::admin_client
  uint16_t https_port = 443;
  uint64_t capacity_connections = 10000;
  uint64_t capacity_egress_bps = 10'000'000'000ull;
};

// An origin cdn-geo only watches (health, live channels) for the fleet page.
struct OriginConfig {
  std::string name;
  config::HostPort admin;  // from the admin URL http(s)://host:port
  bool admin_tls = false;
};

struct DeliveryHost {
  std::string name;
  bool use_ecs = true;
};

struct HealthConfig {
  int64_t interval_ms = 1000;
  int64_t timeout_ms = 500;
  uint32_t down_after = 3;
  uint32_t up_after = 2;
  double load_share = 0.9;
};

struct NsConfig {
  std::string name;
  std::string address;  // glue, for names inside the zone
};

struct GeoConfig {
  bool present = false;
  std::string zone;
  std::vector<NsConfig> ns;
  std::string soa_rname = "hostmaster";
  uint32_t soa_serial = 1, soa_refresh = 3600, soa_retry = 600, soa_expire = 86400,
           soa_minimum = 30;
  uint32_t apex_ttl = 3600, edge_name_ttl = 300;
  std::vector<config::HostPort> dns_listen;
  DnsServerOptions dns;
  std::vector<DeliveryHost> delivery_hosts;
  std::vector<SiteConfig> sites;
  std::vector<EdgeConfig> edges;
  std::vector<OriginConfig> origins;
  std::string coverage_zones, maxmind;
  size_t default_site = 0;
  uint32_t max_accuracy_radius_km = 200;
  uint32_t records_per_answer = 1;
  uint32_t ttl_s = 30;
  HealthConfig health;
  config::ClientTlsConfig admin_client;  // how https:// admin listeners are verified and shown us
};

// Reads the (required) `geo:` section from the root map; every problem is reported through the
// reader (file:line).
void read_geo_section(config::MapReader& root, GeoConfig& out);

// The zone as the DNS side serves it.
ZoneConfig make_zone_config(const GeoConfig& g);

}  // namespace cdn::geo
