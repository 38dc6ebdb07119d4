// services: and default_service: (delivery services by Host).
#include <algorithm>

#include "common/config/sections.h"
#include "common/util/strings.h"

namespace cdn::config::sections {

namespace {

// A service name becomes a metric label value and a cache key prefix: short, lower-case, plain.
bool valid_service_name(std::string_view n) {
  if (n.empty() || n.size() > 32) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// "name.example.com", "*.example.com" (one leading label wildcard) or an IP literal.
bool valid_host_pattern(std::string_view h) {
  if (starts_with(h, "*.")) h.remove_prefix(2);
  if (h.empty() || h.size() > 253) return false;
  if (h.front() == '[' && h.back() == ']') return h.size() > 2;  // IPv6 literal
  return h.front() != '.' && h.back() != '.' && h.find("..") == std::string_view::npos &&
         std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
         });
}

// Keys of the cache section that size or place the process's one memory and disk tier.
constexpr std::string_view kProcessWideCacheKeys[] = {"memory", "memory_shards", "disk_path",
                                                      "disk_max"};

void read_service_cache(MapReader& m, CacheConfig& out) {
  for (auto key : kProcessWideCacheKeys) {
    if (!m.has(key)) continue;
    m.skip(key);
    m.error(key, "is process-wide: set it in the top-level cache section");
  }
  if (m.has("default_ttls"))
    out.default_ttls.clear();  // the service's rules replace the top level's
  read_cache(m, out);
}

void read_service_limits(MapReader& m, ServiceConfig& out) {
  set(out.max_body_bytes, m.get_size("max_body_bytes"));
}

void read_service(MapReader& s, const ServerConfig& cfg, size_t index,
                  const ServiceSections& service_extra, std::vector<ServiceConfig>& out) {
  ServiceConfig svc;
  svc.cache = cfg.cache;
  svc.max_body_bytes = cfg.limits.max_body_bytes;
  if (auto name = s.get_string(required("name"), false)) {
    if (!valid_service_name(*name))
      s.error("name", "\"" + *name + "\" is not a service name (1-32 of a-z, 0-9, '_', '-')");
    else if (*name == "other")
      s.error("name", "\"other\" is reserved (the metric label of services past the label cap)");
    for (const auto& prev : out)
      if (prev.name == *name) s.error("name", "duplicate service name \"" + *name + "\"");
    svc.name = *name;
  }
  if (auto hosts = s.get_string_list(required("hosts"))) {
    if (hosts->empty()) s.error("hosts", "needs at least one host name");
    for (auto& h : *hosts) {
      std::string host = to_lower(h);
      if (!valid_host_pattern(host)) {
        s.error("hosts", "\"" + h + "\" is not a host name, IP literal or *.wildcard");
        continue;
      }
      for (const auto& prev : out)
        if (std::find(prev.hosts.begin(), prev.hosts.end(), host) != prev.hosts.end())
          s.error("hosts",
                  "duplicate host \"" + host + "\" (also in service \"" + prev.name + "\")");
      if (std::find(svc.hosts.begin(), svc.hosts.end(), host) != svc.hosts.end())
        s.error("hosts", "duplicate host \"" + host + "\"");
      svc.hosts.push_back(std::move(host));
    }
  }
  if (auto u = s.get_map("upstream")) {
    read_upstream(*u, cfg.tier, svc.upstream);
    u->finish();
  } else if (cfg.upstream) {
    svc.upstream = *cfg.upstream;
  } else {
    s.error("needs an upstream section (there is no top-level upstream to inherit)");
  }
  if (auto c = s.get_map("cache")) {
    read_service_cache(*c, svc.cache);
    c->finish();
  }
  if (auto t = s.get_map("tls")) {
    read_tls_certificates(*t, required("certificates"), 1, svc.certificates);
    t->finish();
  }
  set(svc.admin_token, s.get_string("admin_token", false));
  if (auto l = s.get_map("limits")) {
    read_service_limits(*l, svc);
    l->finish();
  }
  if (service_extra) {
    service_extra(s, index);
  } else if (s.has("access")) {
    s.skip("access");
    s.error("access", "only for tier edge");
  }
  s.finish();
  out.push_back(std::move(svc));
}

}  // namespace

void read_services(MapReader& root, ServerConfig& cfg, const ServiceSections& service_extra) {
  const bool proxy_tier = cfg.tier == Tier::Edge || cfg.tier == Tier::Shield;
  if (!proxy_tier) {
    for (const char* key : {"services", "default_service"}) {
      if (!root.has(key)) continue;
      root.skip(key);
      root.error(key, "only for tiers edge and shield");
    }
    return;
  }
  size_t index = 0;
  for (MapReader& s : root.get_maps("services"))
    read_service(s, cfg, index++, service_extra, cfg.services);
  if (auto d = root.get_string("default_service", false)) {
    auto named = [&](const ServiceConfig& s) { return s.name == *d; };
    if (cfg.services.empty())
      root.error("default_service", "needs a services section");
    else if (std::none_of(cfg.services.begin(), cfg.services.end(), named))
      root.error("default_service", "no service is named \"" + *d + "\"");
    cfg.default_service = *d;
  }
  // Each service's certificates join the SNI map; the top-level ones (if any) stay first.
  for (const auto& s : cfg.services) {
    if (s.certificates.empty()) continue;
    if (!cfg.tls) cfg.tls.emplace();
    cfg.tls->certificates.insert(cfg.tls->certificates.end(), s.certificates.begin(),
                                 s.certificates.end());
  }
}

}  // namespace cdn::config::sections
