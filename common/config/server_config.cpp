#include "common/config/server_config.h"

#include <unistd.h>

#include "common/config/reader.h"
#include "common/config/sections.h"

namespace cdn::config {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// Reads an optional section `key` of the root with `fn(MapReader&, ...)`.
template <typename Fn>
void section(MapReader& root, std::string_view key, Fn&& fn) {
  if (auto m = root.get_map(key)) {
    fn(*m);
    m->finish();
  }
}

std::optional<Tier> read_tier(MapReader& root) {
  auto t = root.get_enum(required("tier"), {"edge", "shield", "origin", "geo"});
  if (!t) return std::nullopt;
  if (*t == "shield") return Tier::Shield;
  if (*t == "origin") return Tier::Origin;
  if (*t == "geo") return Tier::Geo;
  return Tier::Edge;
}

// upstream for edge and shield, origin for the origin tier, neither for geo (its own `geo:`
// section is read by cdn-geo); the other one is an error.
void read_tier_sections(MapReader& root, std::optional<Tier> tier, ServerConfig& cfg) {
  const bool is_origin = tier == Tier::Origin;
  if (!tier) {  // tier already reported; still check the sections' own keys
    section(root, "upstream", [&](MapReader& m) { UpstreamConfig u; sections::read_upstream(m, Tier::Edge, u); });
    section(root, "origin", [&](MapReader& m) { OriginConfig o; sections::read_origin(m, o); });
    return;
  }
  const std::string tier_name(to_string(*tier));
  if (*tier == Tier::Geo) {
    for (const char* key : {"upstream", "origin"}) {
      if (root.has(key)) root.error(key, "not allowed for tier geo");
      root.skip(key);
    }
  } else if (is_origin) {
    if (root.has("upstream")) root.error("upstream", "not allowed for tier origin");
    root.skip("upstream");
    if (!root.has("origin")) root.error("origin section is required for tier origin");
    section(root, "origin", [&](MapReader& m) { sections::read_origin(m, cfg.origin.emplace()); });
  } else {
    if (root.has("origin")) root.error("origin", "only allowed for tier origin, not " + tier_name);
    root.skip("origin");
    // With services, each may bring its own upstream instead.
    if (!root.has("upstream") && !root.has("services"))
      root.error("upstream section is required for tier " + tier_name);
    section(root, "upstream",
            [&](MapReader& m) { sections::read_upstream(m, *tier, cfg.upstream.emplace()); });
  }
}

void check_tls_needed(MapReader& root, ServerConfig& cfg) {
  for (const auto& l : cfg.listen) {
    if (l.tls && !cfg.tls) {  // a tls section, or services' certificates
      root.error("listen", "listener " + l.address.str() + " has tls: true but there is no tls section");
      return;
    }
  }
}

void check_admin_address(MapReader& root, const ServerConfig& cfg) {
  for (const auto& l : cfg.listen)
    if (l.address == cfg.admin.listen)
      root.error("admin", "admin listen address " + l.address.str() + " is also a listen address");
}

}  // namespace

std::string_view to_string(Tier t) {
  switch (t) {
    case Tier::Edge: return "edge";
    case Tier::Shield: return "shield";
    case Tier::Origin: return "origin";
    case Tier::Geo: return "geo";
  }
  return "?";
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "?";
}

std::string_view to_string(UpstreamPolicy p) {
  return p == UpstreamPolicy::Failover ? "failover" : "rendezvous";
}

Result<ServerConfig> parse_server_config(std::string_view yaml_text,
                                         const std::string& file_name_for_errors,
                                         const ExtraSections& extra,
                                         const ServiceSections& service_extra) {
  Diagnostics diag(file_name_for_errors);
  ServerConfig cfg;
  try {
    std::optional<MapReader> root = MapReader::parse(yaml_text, diag);
    if (!root) return diag.error();
    std::optional<Tier> tier = read_tier(*root);
    set(cfg.tier, tier);
    cfg.node_name = root->get_string("node_name", false).value_or(host_name());
    set(cfg.workers, root->get_int("workers", 0, 256));
    sections::read_listen(*root, cfg.listen);
    section(*root, "admin", [&](MapReader& m) { sections::read_admin(m, cfg.admin); });
    section(*root, "tls", [&](MapReader& m) { sections::read_tls(m, cfg.tls.emplace()); });
    section(*root, "timeouts", [&](MapReader& m) { sections::read_timeouts(m, cfg.timeouts); });
    section(*root, "limits", [&](MapReader& m) { sections::read_limits(m, cfg.limits); });
    section(*root, "cache", [&](MapReader& m) { sections::read_cache(m, cfg.cache); });
    section(*root, "http2", [&](MapReader& m) { sections::read_http2(m, cfg.http2); });
    section(*root, "proxy", [&](MapReader& m) { sections::read_proxy(m, cfg.proxy); });
    read_tier_sections(*root, tier, cfg);
    sections::read_services(*root, cfg, service_extra);
    set(cfg.access_log, root->get_string("access_log", false));
    if (auto level = root->get_enum("log_level", {"debug", "info", "warn", "error"})) {
      for (auto l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error})
        if (to_string(l) == *level) cfg.log_level = l;
    }
    check_tls_needed(*root, cfg);
    check_admin_address(*root, cfg);
    if (extra) extra(*root);
    root->finish();
  } catch (const YAML::Exception& e) {  // not expected: the reader checks types before reading
    diag.add(e.mark.is_null() ? 0 : e.mark.line + 1, e.msg);
  } catch (const std::exception& e) {
    diag.add(0, e.what());
  }
  if (!diag.ok()) return diag.error();
  return cfg;
}

Result<ServerConfig> load_server_config(const std::string& path, const ExtraSections& extra,
                                        const ServiceSections& service_extra) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_server_config(*text, path, extra, service_extra);
}

}  // namespace cdn::config
