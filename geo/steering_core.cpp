#include "geo/steering_core.h"

#include <cstdio>

#include "common/obs/log.h"
#include "geo/edge_history.h"

namespace cdn::geo {

const char* to_string(AddressSource s) {
  switch (s) {
    case AddressSource::Ecs:
      return "ecs";
    case AddressSource::Resolver:
      return "resolver";
    case AddressSource::Viewer:
      return "viewer";
  }
  return "?";
}

namespace {

std::string quoted(std::string_view s) {
  return "\"" + obs::json_escape(s) + "\"";
}

// The rendezvous key of a DNS decision: family, scope and the address cut to the scope.
using ClientKey = std::array<char, 18>;
ClientKey client_key(const IpAddr& a, uint8_t scope) {
  IpAddr m = masked(a, scope);
  ClientKey k{};
  k[0] = char(a.family);
  k[1] = char(scope);
  for (int i = 0; i < 8; ++i) {
    k[2 + i] = char(m.hi >> (56 - 8 * i));
    k[10 + i] = char(m.lo >> (56 - 8 * i));
  }
  return k;
}

}  // namespace

SteeringCore::SteeringCore(std::shared_ptr<const GeoConfig> cfg,
                           std::shared_ptr<const LocatorData> data)
    : cfg_(std::move(cfg)), locator_(std::move(data)) {
  auto empty = std::make_shared<HealthSnapshot>();
  empty->edges.resize(cfg_->edges.size());
  empty->origins.resize(cfg_->origins.size());
  health_.store(std::move(empty));
  for (size_t s = 0; s < cfg_->sites.size(); ++s) {
    Location at_site;
    at_site.site = s;
    order_from_site_.push_back(sites_by_distance(*cfg_, at_site));
    site_vectors_.push_back(unit_vector(cfg_->sites[s].lat, cfg_->sites[s].lon));
  }
  for (const EdgeConfig& e : cfg_->edges)
    edge_wire_.push_back({wire_addresses(e.ipv4, AF_INET), wire_addresses(e.ipv6, AF_INET6)});
  auto& reg = obs::metrics();
  for (size_t s = 0; s <= cfg_->sites.size(); ++s) {
    std::string site = s < cfg_->sites.size() ? cfg_->sites[s].name : "none";
    auto& row = decisions_.emplace_back();
    for (int by = 0; by < 3; ++by)
      for (int src = 0; src < 3; ++src)
        row[by][src] = &reg.counter(
            "cdn_geo_decisions_total",
            "Steering decisions, by site, how the viewer was located and whose address",
            {{"site", site},
             {"located", to_string(LocatedBy(by))},
             {"address", to_string(AddressSource(src))}});
    if (s < cfg_->sites.size())
      spills_.push_back(
          &reg.counter("cdn_geo_spillovers_total",
                       "Decisions sent past their nearest site because it had no available edge",
                       {{"from", site}}));
  }
}

namespace {

// The statuses `old` knew of the `now` entries that stay (same name and admin address); the
// others start unknown. Edges and origins alike.
template <class Config>
std::vector<EdgeStatus> carried_over(const std::vector<Config>& now,
                                     const std::vector<Config>& before,
                                     const std::vector<EdgeStatus>& old) {
  std::vector<EdgeStatus> out(now.size());
  for (size_t i = 0; i < now.size(); ++i)
    for (size_t j = 0; j < before.size() && j < old.size(); ++j)
      if (before[j].name == now[i].name && before[j].admin == now[i].admin) out[i] = old[j];
  return out;
}

// /state's "origins": what the poller last saw of every watched origin.
std::string origins_json(const GeoConfig& cfg, const HealthSnapshot& h) {
  static const EdgeStatus kNotPolled;
  std::string j = "[";
  for (size_t i = 0; i < cfg.origins.size(); ++i) {
    const OriginConfig& o = cfg.origins[i];
    const EdgeStatus& st = i < h.origins.size() ? h.origins[i] : kNotPolled;
    char nums[256];
    snprintf(nums, sizeof nums,
             ",\"draining\":%s,\"live_channels\":%s,\"requests_per_s\":%s,"
             "\"errors_5xx_per_s\":%s,\"last_change_ms\":%lld}",
             st.draining ? "true" : "false",
             json_number_or_null(double(st.live_channels), "%.0f").c_str(),
             json_number_or_null(st.rates.requests_per_s, "%.2f").c_str(),
             json_number_or_null(st.rates.errors_5xx_per_s, "%.2f").c_str(),
             (long long)st.last_change_ms);
    j += std::string(i ? "," : "") + "{\"name\":" + quoted(o.name) +
         ",\"health\":" + quoted(to_string(st.health)) + ",\"reason\":" + quoted(st.reason) +
         ",\"admin\":" + quoted(o.admin.str()) + nums;
  }
  return j + "]";
}

}  // namespace

void SteeringCore::seed_health(const GeoConfig& old_cfg, const HealthSnapshot& old) {
  auto snap = std::make_shared<HealthSnapshot>();
  snap->edges = carried_over(cfg_->edges, old_cfg.edges, old.edges);
  snap->origins = carried_over(cfg_->origins, old_cfg.origins, old.origins);
  publish(std::move(snap));
}

Decision SteeringCore::decide(const IpAddr& addr, AddressSource src, std::string_view path,
                              int family, bool count_it, bool explain) const {
  Decision d;
  d.addr = addr;
  d.source = src;
  d.location = locator_.locate(addr, *cfg_);
  std::shared_ptr<const HealthSnapshot> h = health_.load();
  const Location& l = d.location;
  SiteOrder order = l.site ? SiteOrder(order_from_site_[*l.site])
                           : SiteOrder(unit_vector(l.lat, l.lon), site_vectors_);
  ClientKey client{};
  std::string_view key = path;
  if (!path.empty()) {
    d.key_kind = "path";
  } else {
    d.key_kind = "client-prefix";
    client = client_key(addr, l.scope);
    key = std::string_view(client.data(), client.size());
  }
  d.choice = choose(*cfg_, *h, order, key, cfg_->records_per_answer, family, explain);
  if (count_it) count(d);
  return d;
}

void SteeringCore::count(const Decision& d) const {
  size_t site = d.choice.found ? d.choice.site : cfg_->sites.size();
  decisions_[site][int(d.location.by)][int(d.source)]->inc();
  if (d.choice.found && d.choice.spilled) spills_[d.choice.preferred_site]->inc();
}

SteerAnswer SteeringCore::steer(const SteerQuery& q) const {
  SteerAnswer a;
  a.ttl = cfg_->ttl_s;
  std::optional<IpAddr> addr;
  AddressSource src = AddressSource::Resolver;
  if (q.ecs) {
    addr = ip_from_sockaddr(q.ecs->address);
    src = AddressSource::Ecs;
  }
  if (!addr) {
    addr = ip_from_sockaddr(q.resolver);
    src = AddressSource::Resolver;
  }
  if (!addr) return a;
  Decision d = decide(*addr, src, {}, q.family, true, false);
  a.scope_prefix = d.location.scope;
  for (size_t i : d.choice.edges) a.add(edge_wire_[i][q.family == AF_INET6 ? 1 : 0]);
  return a;
}

std::string SteeringCore::redirect_url(const Decision& d, std::string_view target) const {
  if (d.choice.edges.empty()) return {};
  const EdgeConfig& e = cfg_->edges[d.choice.edges.front()];
  std::string url = "https://" + e.name + "." + cfg_->zone;
  if (e.https_port != 443) url += ":" + std::to_string(e.https_port);
  url += target;
  return url;
}

std::string SteeringCore::decision_json(const Decision& d) const {
  const Location& l = d.location;
  std::string j =
      "{\"ip\":" + quoted(to_string(d.addr)) + ",\"address\":" + quoted(to_string(d.source));
  j += ",\"located\":{\"by\":" + quoted(to_string(l.by));
  if (l.site) j += ",\"site\":" + quoted(cfg_->sites[*l.site].name);
  if (l.by == LocatedBy::MaxMind) {
    char buf[128];
    snprintf(buf, sizeof buf, ",\"lat\":%.4f,\"lon\":%.4f,\"accuracy_radius_km\":%u", l.lat, l.lon,
             l.accuracy_radius_km);
    j += buf;
  }
  if (!l.maxmind_miss.empty()) j += ",\"maxmind_miss\":" + quoted(l.maxmind_miss);
  j += ",\"scope\":" + std::to_string(l.scope) + "}";
  j += ",\"key\":" + quoted(d.key_kind);
  j += ",\"nearest_site\":" +
       quoted(cfg_->sites.empty() ? "" : cfg_->sites[d.choice.preferred_site].name);
  j += ",\"site\":" +
       (d.choice.found ? quoted(cfg_->sites[d.choice.site].name) : std::string("null"));
  j += ",\"spilled\":" + std::string(d.choice.spilled ? "true" : "false");
  j += ",\"edges\":[";
  for (size_t k = 0; k < d.choice.edges.size(); ++k)
    j += (k ? "," : "") + quoted(cfg_->edges[d.choice.edges[k]].name);
  j += "],\"reasons\":[";
  for (size_t k = 0; k < d.choice.reasons.size(); ++k)
    j += (k ? "," : "") + quoted(d.choice.reasons[k]);
  j += "]}";
  return j;
}

std::string SteeringCore::state_json() const {
  std::shared_ptr<const HealthSnapshot> h = health_.load();
  std::string j = "{\"sites\":[";
  for (size_t s = 0; s < cfg_->sites.size(); ++s) {
    const SiteConfig& site = cfg_->sites[s];
    char buf[160];
    snprintf(buf, sizeof buf, "%s{\"name\":%s,\"lat\":%.4f,\"lon\":%.4f,\"edges\":[", s ? "," : "",
             quoted(site.name).c_str(), site.lat, site.lon);
    j += buf;
    bool first = true;
    for (size_t i = 0; i < cfg_->edges.size(); ++i) {
      const EdgeConfig& e = cfg_->edges[i];
      if (e.site != s) continue;
      const EdgeStatus& st = h->edges[i];
      char nums[512];
      snprintf(nums, sizeof nums,
               ",\"draining\":%s,\"connections\":%llu,\"capacity_connections\":%llu,"
               "\"egress_bps\":%.0f,\"capacity_egress_bps\":%llu,\"last_change_ms\":%lld,"
               "\"stream_sessions\":%s,\"hit_ratio\":%s,\"requests_per_s\":%s,"
               "\"errors_5xx_per_s\":%s}",
               st.draining ? "true" : "false", (unsigned long long)st.connections,
               (unsigned long long)e.capacity_connections, st.egress_bps,
               (unsigned long long)e.capacity_egress_bps, (long long)st.last_change_ms,
               json_number_or_null(double(st.stream_sessions), "%.0f").c_str(),
               json_number_or_null(st.rates.hit_ratio, "%.4f").c_str(),
               json_number_or_null(st.rates.requests_per_s, "%.2f").c_str(),
               json_number_or_null(st.rates.errors_5xx_per_s, "%.2f").c_str());
      j += std::string(first ? "" : ",") + "{\"name\":" + quoted(e.name) +
           ",\"health\":" + quoted(to_string(st.health)) +
           ",\"available\":" + (st.available ? "true" : "false") +
           ",\"reason\":" + quoted(st.reason) + ",\"admin\":" + quoted(e.admin.str()) + nums;
      first = false;
    }
    j += "]}";
  }
  j += "],\"origins\":" + origins_json(*cfg_, *h) + "}\n";
  return j;
}

}  // namespace cdn::geo
