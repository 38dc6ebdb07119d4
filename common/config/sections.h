#pragma once
// Internal: one reader per section of ServerConfig. Each reads its keys from `m`, stores valid
// values over the defaults already in `out`, and reports problems through `m`. Cross-section rules
// (tier-dependent sections, tls needed by listeners) live in server_config.cpp.
#include "common/config/reader.h"
#include "common/config/server_config.h"

namespace cdn::config::sections {

void read_listen(MapReader& root, std::vector<ListenConfig>& out);
void read_admin(MapReader& m, AdminConfig& out);
void read_tls(MapReader& m, TlsConfig& out);
// A list of {cert, key} PEM pairs at `key`, each checked readable.
void read_tls_certificates(MapReader& m, Key key, size_t min_items,
                           std::vector<TlsCertificate>& out);
void read_timeouts(MapReader& m, TimeoutsConfig& out);
void read_limits(MapReader& m, LimitsConfig& out);
void read_cache(MapReader& m, CacheConfig& out);
void read_proxy(MapReader& m, ProxyConfig& out);
void read_upstream(MapReader& m, Tier tier, UpstreamConfig& out);
void read_origin(MapReader& m, OriginConfig& out);
void read_http2(MapReader& m, Http2Config& out);
// services: and default_service: (after upstream, cache and limits, whose values services inherit).
void read_services(MapReader& root, ServerConfig& cfg, const ServiceSections& service_extra);

// Reports `key` unless it names an existing file (or directory) the process can read.
void check_readable(MapReader& m, std::string_view key, const std::string& path, bool directory);
// A file path key of a TLS section (certificate, key, CA): stored when present and readable.
void read_pem_path(MapReader& m, Key key, std::string& out);

}  // namespace cdn::config::sections
