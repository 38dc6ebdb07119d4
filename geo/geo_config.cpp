#include "geo/geo_config.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdlib>

#include "common/config/reader.h"
#include "geo/coverage_zones.h"
#include "geo/maxmind_db.h"

namespace cdn::geo {

namespace {

bool valid_label(std::string_view l) {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  for (char c : l)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

// A lowercase absolute name without the trailing dot.
bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = n.find('.', start);
    if (!valid_label(n.substr(start, dot == std::string_view::npos ? n.npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool in_zone(std::string_view name, std::string_view zone) {
  return name.size() > zone.size() && name.ends_with(zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

bool is_ip(const std::string& s, int family) {
  unsigned char buf[16];
  return inet_pton(family, s.c_str(), buf) == 1;
}

std::optional<double> get_double(config::MapReader& m, config::Key key, double min, double max) {
  auto s = m.get_string(key, false);
  if (!s) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s->c_str(), &end);
  if (end == s->c_str() || *end != '\0' || !std::isfinite(v) || v < min || v > max) {
    m.error(key.name, "expected a number between " + std::to_string(min) + " and " +
                          std::to_string(max) + ", got \"" + *s + "\"");
    return std::nullopt;
  }
  return v;
}

uint32_t seconds(int64_t ms) {
  return uint32_t(ms / 1000);
}

void read_zone(config::MapReader& m, GeoConfig& out) {
  if (auto z = m.get_string(config::required("name"), false)) {
    if (!valid_name(*z))
      m.error("name", "not a lowercase DNS name without trailing dot: \"" + *z + "\"");
    out.zone = *z;
  }
  for (config::MapReader& n : m.get_maps(config::required("ns"), 1)) {
    NsConfig ns;
    config::set(ns.name, n.get_string(config::required("name"), false));
    config::set(ns.address, n.get_string("address", false));
    if (!ns.name.empty() && !valid_name(ns.name))
      n.error("name", "not a DNS name: \"" + ns.name + "\"");
    if (!ns.address.empty() && !is_ip(ns.address, AF_INET) && !is_ip(ns.address, AF_INET6))
      n.error("address", "not an IP address: \"" + ns.address + "\"");
    if (ns.address.empty() && in_zone(ns.name, out.zone))
      n.error("address", "an NS name inside the zone needs its address (glue)");
    n.finish();
    out.ns.push_back(std::move(ns));
  }
  if (auto soa = m.get_map("soa")) {
    config::set(out.soa_rname, soa->get_string("rname", false));
    if (auto v = soa->get_int("serial", 0, UINT32_MAX)) out.soa_serial = uint32_t(*v);
    if (auto v = soa->get_duration_ms("refresh", 1000, 1LL << 31)) out.soa_refresh = seconds(*v);
    if (auto v = soa->get_duration_ms("retry", 1000, 1LL << 31)) out.soa_retry = seconds(*v);
    if (auto v = soa->get_duration_ms("expire", 1000, 1LL << 31)) out.soa_expire = seconds(*v);
    if (auto v = soa->get_duration_ms("minimum", 0, 1LL << 31)) out.soa_minimum = seconds(*v);
    soa->finish();
  }
  if (auto v = m.get_duration_ms("apex_ttl", 0, 1LL << 31)) out.apex_ttl = seconds(*v);
  if (auto v = m.get_duration_ms("edge_name_ttl", 0, 1LL << 31)) out.edge_name_ttl = seconds(*v);
  m.finish();
}

// An edge's or origin's admin address: http(s)://<ip>:<port>; true when it is https.
bool read_admin_url(config::MapReader& m, config::HostPort& address) {
  auto text = m.get_string(config::required("admin"), false);
  if (!text) return false;
  auto url = config::parse_admin_url(*text, false);
  if (!url || !url->address.is_ip_literal()) {
    m.error("admin",
            "expected http://<ip>:<port> or https://<ip>:<port> (no names: polls never "
            "resolve), got \"" +
                *text + "\"");
    return false;
  }
  address = url->address;
  return url->tls;
}

void read_edge(config::MapReader& m, GeoConfig& out) {
  EdgeConfig e;
  if (auto n = m.get_string(config::required("name"), false)) {
    if (!valid_label(*n))
      m.error("name", "an edge name must be one lowercase DNS label: \"" + *n + "\"");
    for (auto& other : out.edges)
      if (other.name == *n) m.error("name", "duplicate edge \"" + *n + "\"");
    e.name = *n;
  }
  if (auto s = m.get_string(config::required("site"), false)) {
    size_t i = 0;
    while (i < out.sites.size() && out.sites[i].name != *s) ++i;
    if (i == out.sites.size()) m.error("site", "no site named \"" + *s + "\"");
    e.site = i;
  }
  config::set(e.ipv4, m.get_string_list("ipv4"));
  config::set(e.ipv6, m.get_string_list("ipv6"));
  for (auto& a : e.ipv4)
    if (!is_ip(a, AF_INET)) m.error("ipv4", "not an IPv4 address: \"" + a + "\"");
  for (auto& a : e.ipv6)
    if (!is_ip(a, AF_INET6)) m.error("ipv6", "not an IPv6 address: \"" + a + "\"");
  if (e.ipv4.empty() && e.ipv6.empty())
    m.error("an edge needs at least one address in ipv4 or ipv6");
  e.admin_tls = read_admin_url(m, e.admin);
  if (auto p = m.get_int("https_port", 1, 65535)) e.https_port = uint16_t(*p);
  if (auto c = m.get_map("capacity")) {
    if (auto v = c->get_int("connections", 1, INT64_MAX)) e.capacity_connections = uint64_t(*v);
    if (auto v = c->get_int("egress", 1, INT64_MAX)) e.capacity_egress_bps = uint64_t(*v);
    c->finish();
  }
  m.finish();
  out.edges.push_back(std::move(e));
}

void read_origin(config::MapReader& m, GeoConfig& out) {
  OriginConfig o;
  if (auto n = m.get_string(config::required("name"), false)) {
    if (n->empty()) m.error("name", "an origin needs a name");
    for (auto& other : out.origins)
      if (other.name == *n) m.error("name", "duplicate origin \"" + *n + "\"");
    o.name = *n;
  }
  o.admin_tls = read_admin_url(m, o.admin);
  m.finish();
  out.origins.push_back(std::move(o));
}

void read_health(config::MapReader& m, HealthConfig& h) {
  config::set(h.interval_ms, m.get_duration_ms("interval", 100, 3'600'000));
  config::set(h.timeout_ms, m.get_duration_ms("timeout", 50, 60'000));
  if (auto v = m.get_int("down_after", 1, 100)) h.down_after = uint32_t(*v);
  if (auto v = m.get_int("up_after", 1, 100)) h.up_after = uint32_t(*v);
  config::set(h.load_share, get_double(m, "load_share", 0.01, 1.0));
  m.finish();
}

void read_dns_options(config::MapReader& m, DnsServerOptions& o) {
  if (auto v = m.get_int("tcp_max_connections", 1, 1'000'000)) o.max_tcp_connections = size_t(*v);
  config::set(o.tcp_idle_ms, m.get_duration_ms("tcp_idle_timeout", 100, 3'600'000));
  // RFC 6891 §6.2.5: below 512 means 512; past 4096 only invites fragmentation.
  if (auto v = m.get_int("max_udp_payload", 512, 4096)) o.udp_max_payload = uint16_t(*v);
  m.finish();
}

void read_sites(config::MapReader& g, GeoConfig& out) {
  for (config::MapReader& m : g.get_maps(config::required("sites"), 1)) {
    SiteConfig s;
    if (auto n = m.get_string(config::required("name"), false)) {
      for (auto& other : out.sites)
        if (other.name == *n) m.error("name", "duplicate site \"" + *n + "\"");
      s.name = *n;
    }
    config::set(s.lat, get_double(m, config::required("lat"), -90, 90));
    config::set(s.lon, get_double(m, config::required("lon"), -180, 180));
    m.finish();
    out.sites.push_back(std::move(s));
  }
}

void read_locating(config::MapReader& g, GeoConfig& out) {
  if (auto c = g.get_string("coverage_zones", false)) {
    out.coverage_zones = *c;
    std::vector<std::string> names;
    for (auto& s : out.sites) names.push_back(s.name);
    if (auto z = load_coverage_zones(*c, names); !z) g.error("coverage_zones", z.error().message);
  }
  if (auto mm = g.get_string("maxmind", false)) {
    out.maxmind = *mm;
    if (auto db = MaxMindDb::open(*mm); !db) g.error("maxmind", db.error().message);
  }
  if (auto d = g.get_string("default_site", false)) {
    size_t i = 0;
    while (i < out.sites.size() && out.sites[i].name != *d) ++i;
    if (i == out.sites.size())
      g.error("default_site", "no site named \"" + *d + "\"");
    else
      out.default_site = i;
  }
  if (auto v = g.get_int("max_accuracy_radius", 1, 20000))
    out.max_accuracy_radius_km = uint32_t(*v);
}

}  // namespace

void read_geo_section(config::MapReader& root, GeoConfig& out) {
  if (!root.has("geo")) {
    root.error("geo section is required for cdn-geo");
    return;
  }
  auto g = root.get_map("geo");
  if (!g) return;
  out.present = true;
  if (auto z = g->get_map(config::required("zone"))) read_zone(*z, out);
  if (auto l = g->get_string_list("dns_listen")) {
    for (auto& s : *l) {
      auto hp = config::parse_host_port(s);
      if (!hp || !hp->is_ip_literal())
        g->error("dns_listen", "expected ip:port, got \"" + s + "\"");
      else
        out.dns_listen.push_back(*hp);
    }
  }
  if (auto d = g->get_map("dns")) read_dns_options(*d, out.dns);
  for (config::MapReader& m : g->get_maps(config::required("delivery_hosts"), 1)) {
    DeliveryHost d;
    if (auto n = m.get_string(config::required("name"), false)) {
      if (!valid_name(*n) || !in_zone(*n, out.zone))
        m.error("name", "a delivery host must be a lowercase name inside zone " + out.zone +
                            ": \"" + *n + "\"");
      d.name = *n;
    }
    config::set(d.use_ecs, m.get_bool("use_ecs"));
    m.finish();
    out.delivery_hosts.push_back(std::move(d));
  }
  read_sites(*g, out);
  for (config::MapReader& m : g->get_maps(config::required("edges"), 1)) read_edge(m, out);
  for (config::MapReader& m : g->get_maps("origins", 0)) read_origin(m, out);
  read_locating(*g, out);
  if (auto v = g->get_int("records_per_answer", 1, 16)) out.records_per_answer = uint32_t(*v);
  if (auto v = g->get_duration_ms("ttl", 0, 86'400'000)) out.ttl_s = seconds(*v);
  if (auto h = g->get_map("health")) read_health(*h, out.health);
  if (auto c = g->get_map("admin_client")) {
    // Loaded now, so --check-config finds a key that is not the certificate's.
    config::read_loadable_client_tls(*c, out.admin_client);
    c->finish();
  }
  g->finish();
}

ZoneConfig make_zone_config(const GeoConfig& g) {
  ZoneConfig z;
  z.zone = g.zone;
  for (auto& ns : g.ns) {
    z.ns_names.push_back(ns.name);
    if (!ns.address.empty() && in_zone(ns.name, g.zone))
      z.ns_glue.emplace_back(ns.name, ns.address);
  }
  z.soa_rname = g.soa_rname;
  z.soa_serial = g.soa_serial;
  z.soa_refresh = g.soa_refresh;
  z.soa_retry = g.soa_retry;
  z.soa_expire = g.soa_expire;
  z.soa_minimum = g.soa_minimum;
  z.apex_ttl = g.apex_ttl;
  for (auto& d : g.delivery_hosts) {
    z.delivery_hosts.push_back(d.name);
    z.delivery_use_ecs.push_back(d.use_ecs);
  }
  for (auto& e : g.edges) z.edge_names.push_back({e.name + "." + g.zone, e.ipv4, e.ipv6});
  z.edge_name_ttl = g.edge_name_ttl;
  return z;
}

}  // namespace cdn::geo
