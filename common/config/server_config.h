#pragma once
// The configuration shared by every server program (edge, shield, origin): plain structs with
// the documented defaults, and a loader that validates everything and names file:line.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/client_tls.h"
#include "common/config/parse_units.h"
#include "common/util/result.h"

namespace cdn::config {

class MapReader;

enum class Tier { Edge, Shield, Origin, Geo };
enum class LogLevel { Debug, Info, Warn, Error };  // same order as cdn::obs::Level
enum class UpstreamPolicy { Rendezvous, Failover };

std::string_view to_string(Tier);
std::string_view to_string(LogLevel);
std::string_view to_string(UpstreamPolicy);

struct ListenConfig {
  HostPort address;
  bool tls = false;
};

// The admin listener over TLS (absent = plain HTTP): its own certificate, and with client_ca
// every admin client (Prometheus, cdn-geo, cdnctl) must show a certificate that CA signed.
struct AdminTlsConfig {
  std::string cert, key;  // PEM file paths, checked readable at load time
  std::string client_ca;  // empty = no client certificate asked for
};

struct AdminConfig {
  HostPort listen{"127.0.0.1", 9090};
  std::string token;  // empty = admin writes disabled
  std::optional<AdminTlsConfig> tls;
};

struct TlsCertificate {
  std::string cert;  // PEM file paths, checked readable at load time
  std::string key;
};

struct TlsConfig {
  std::vector<TlsCertificate> certificates;  // the first is the default for unknown SNI
  bool session_tickets = true;
  // TLS 1.3 tickets sent after a full handshake. Each costs the server a session serialization,
  // an encryption and a MAC (about a tenth of a handshake here); a player reconnects one
  // connection at a time and gets a fresh ticket with every resumption, so one is enough.
  uint32_t tickets_per_handshake = 1;
  uint32_t session_cache_size = 20480;
  // AES-128-GCM first, as Google's and Cloudflare's front ends do: on AES-NI it encrypts about a
  // third faster than AES-256-GCM, which is most of what serving large objects over TLS costs.
  std::string ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::string client_ca;  // non-empty: every TLS listener demands a client certificate it signed
};

struct TimeoutsConfig {
  int64_t header_read_ms = 10'000;
  int64_t keepalive_idle_ms = 60'000;
  int64_t send_stall_ms = 30'000;
  int64_t upstream_connect_ms = 2'000;
  int64_t upstream_first_byte_ms = 10'000;
  int64_t upstream_idle_ms = 30'000;
  int64_t drain_ms = 30'000;
  // Drain phase 1: /healthz says draining while the listeners still accept (0 = stop at once).
  int64_t drain_grace_ms = 0;
  // Flow control: a request queued behind another's fill gives up after this (504).
  int64_t cache_lock_ms = 15'000;
  // LL-HLS blocking playlist reloads (_HLS_msn): their upstream first-byte and cache-lock wait.
  int64_t upstream_blocking_reload_ms = 30'000;
};

struct LimitsConfig {
  uint32_t max_url_bytes = 8192;
  uint32_t max_header_bytes = 16384;  // total request head
  uint32_t max_field_bytes = 8192;    // one header field name or value
  bool keep_escaped_slashes = false;  // %2F/%5C in a path: false refuses the request
  uint32_t max_headers = 100;
  uint32_t max_connections = 20000;  // per process
  uint64_t max_body_bytes = 1 << 20;

  // Per client address, counted across the process's workers (IPv4 cut to client_ipv4_prefix
  // bits, IPv6 to client_ipv6_prefix bits).
  // Unset: 256 on edge, 0 (off) on shield and origin (see max_connections_per_client below).
  std::optional<uint32_t> max_connections_per_client;
  uint32_t requests_per_second_per_client = 0;  // 0 = off
  uint32_t request_burst_per_client = 0;        // 0 = twice the rate
  uint32_t client_ipv4_prefix = 32;
  uint32_t client_ipv6_prefix = 64;
  // Flow control: unsent response bytes a connection may hold beyond shared cached blocks.
  uint64_t send_buffer_bytes = 64 * 1024;
};

// Shields and origins see a whole edge (or shield) as one client address, so they do not limit
// connections per client unless configured to.
inline uint32_t max_connections_per_client(const LimitsConfig& l, Tier tier) {
  return l.max_connections_per_client.value_or(tier == Tier::Edge ? 256 : 0);
}

struct TtlRule {
  std::string match;  // glob on the path, e.g. "*.m3u8"
  int64_t ttl_ms = 0;
};

struct CacheConfig {
  uint64_t memory_bytes = 256ull << 20;
  uint32_t memory_shards = 16;  // power of two
  std::string disk_path;        // empty = no disk tier
  uint64_t disk_max_bytes = 0;  // 0 = unlimited
  uint64_t max_object_size = 1ull << 30;  // larger responses pass through unstored; 0 = no limit
  // A range starting further than this beyond what a running fill has received fetches its own
  // bytes instead of waiting for the fill; 0 = ranges always wait.
  uint64_t range_reach = 8ull << 20;
  std::vector<std::string> ignore_query_params;
  std::string token_param = "token";  // never part of the key
  std::vector<TtlRule> default_ttls;  // first match wins
  int64_t negative_ttl_ms = 10'000;
  int64_t stale_while_revalidate_ms = 0;
  int64_t stale_if_error_ms = 60'000;
  uint32_t max_variants = 32;  // stored variants (Vary) per URL
  std::string targeted_field;  // RFC 9213: our own targeted field, before CDN-Cache-Control
};

// How edge and shield talk HTTP to their upstream beyond the cache (issue 17): request fields.
struct MethodRuleConfig {
  std::string match;               // glob on the path
  std::vector<std::string> allow;  // methods besides GET and HEAD passed upstream there
};

struct ProxyConfig {
  std::vector<std::string> strip_request_headers;  // never forwarded upstream (case-insensitive)
  // First match wins; a path no rule matches passes every method. The bundled origin's paths
  // stay read-only.
  std::vector<MethodRuleConfig> methods = {{"/vod/*", {}}, {"/live/*", {}}};
  bool honour_request_directives = false;  // request_directives: ignore | honour
  int64_t revalidate_interval_ms = 1000;
};

struct UpstreamServer {
  HostPort address;
  bool backup = false;  // failover policy only
  bool tls = false;     // an https:// address, or any address under an upstream `tls:` section
  // TLS: the name its certificate must carry, sent as SNI unless an IP (default: address host).
  std::string server_name;
};

// How TLS upstream servers are verified and how we prove who we are to them (mTLS).
using UpstreamTlsConfig = ClientTlsConfig;

struct UpstreamConfig {
  UpstreamPolicy policy = UpstreamPolicy::Rendezvous;  // edge: rendezvous, shield: failover
  std::vector<UpstreamServer> servers;
  uint32_t max_fails = 3;
  int64_t fail_timeout_ms = 10'000;
  uint32_t retries = 1;
  UpstreamTlsConfig tls;
};

struct OriginConfig {
  std::string root;  // existing directory, served under /vod/
  int64_t playlist_max_age_ms = 2'000;
  int64_t segment_max_age_ms = 86'400'000;
};

// HTTP/2 to viewers (ALPN h2 on TLS listeners; h2c with prior knowledge on plain ones).
struct Http2Config {
  std::optional<bool> enabled;  // unset: on for the edge, off for shield and origin
  bool h2c = false;
  uint32_t max_concurrent_streams = 100;
  uint32_t header_table_bytes = 4096;
  uint32_t max_header_list_bytes = 32768;
  uint32_t max_continuations = 8;    // CONTINUATION frames in one header block
  uint32_t max_resets = 100;         // client RST_STREAMs per flood_interval (Rapid Reset)
  uint32_t max_control_frames = 100; // SETTINGS, and PING, frames per flood_interval
  uint32_t max_empty_data = 100;     // empty DATA frames per flood_interval
  uint32_t stream_window_bytes = 256 * 1024;  // request body bytes a stream may send ahead
  int64_t flood_interval_ms = 1000;
};

inline bool http2_enabled(const Http2Config& h, Tier tier) { return h.enabled.value_or(tier == Tier::Edge); }

// A delivery service (section_services.cpp): the requests whose Host it lists, with its own
// upstream, cache rules and (edge) access. Unset parts inherit the top-level sections.
struct ServiceConfig {
  std::string name;                // label-safe: [a-z0-9_-], unique; part of its cache keys
  std::vector<std::string> hosts;  // lowercased exact names and "*.example.com" wildcards
  UpstreamConfig upstream;         // the top-level upstream unless given
  CacheConfig cache;               // the top-level cache with this service's rule overrides
  std::vector<TlsCertificate> certificates;  // added to the SNI map (tls.certificates)
  std::string admin_token;                   // may purge this service's objects only; empty = none
  uint64_t max_body_bytes = 1 << 20;         // limits.max_body_bytes of a passed request's body
};

struct ServerConfig {
  Tier tier = Tier::Edge;
  std::string node_name;  // defaults to the host name
  uint32_t workers = 0;   // 0 = one per core
  std::vector<ListenConfig> listen;
  AdminConfig admin;
  std::optional<TlsConfig> tls;
  TimeoutsConfig timeouts;
  LimitsConfig limits;
  CacheConfig cache;
  Http2Config http2;
  ProxyConfig proxy;
  std::optional<UpstreamConfig> upstream;  // edge and shield
  std::optional<OriginConfig> origin;      // origin
  // Empty: one implicit service (the top-level upstream/cache/access) for every Host.
  std::vector<ServiceConfig> services;
  std::string default_service;             // the service of a Host no service lists; empty = 421
  std::string access_log = "-";            // "-" = stdout, "off", or a file path
  LogLevel log_level = LogLevel::Info;
};

// Lets a program read its own top-level sections from the same file (e.g. "geo:"): called with
// the root map before unknown keys are reported; errors go through the reader.
using ExtraSections = std::function<void(MapReader& root)>;
// Lets a program read its own keys of each service (e.g. the edge's per-service "access:"),
// called with the service's map and its index in ServerConfig::services.
using ServiceSections = std::function<void(MapReader& service, size_t index)>;

// The error message lists every problem, one "file:line: message" per line.
Result<ServerConfig> parse_server_config(std::string_view yaml_text,
                                         const std::string& file_name_for_errors,
                                         const ExtraSections& extra = {},
                                         const ServiceSections& service_extra = {});
Result<ServerConfig> load_server_config(const std::string& path, const ExtraSections& extra = {},
                                        const ServiceSections& service_extra = {});

}  // namespace cdn::config
