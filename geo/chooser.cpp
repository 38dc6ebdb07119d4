#include "geo/chooser.h"

#include <sys/socket.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cdn::geo {

double distance_km(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kEarthRadiusKm = 6371.0088;
  constexpr double kRad = M_PI / 180.0;
  double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(lat1 * kRad) *
                                                           std::cos(lat2 * kRad) *
                                                           std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

std::vector<size_t> sites_by_distance(const GeoConfig& cfg, const Location& loc) {
  double lat = loc.lat, lon = loc.lon;
  if (loc.site) {
    lat = cfg.sites[*loc.site].lat;
    lon = cfg.sites[*loc.site].lon;
  }
  std::vector<double> d(cfg.sites.size());
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = distance_km(lat, lon, cfg.sites[i].lat, cfg.sites[i].lon);
  std::vector<size_t> order(cfg.sites.size());
  std::iota(order.begin(), order.end(), 0);
  // Ties (and the named site itself, at distance 0) keep config order, so every instance agrees.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (loc.site && (a == *loc.site) != (b == *loc.site)) return a == *loc.site;
    return d[a] < d[b];
  });
  return order;
}

UnitVector unit_vector(double lat, double lon) {
  constexpr double kRad = M_PI / 180.0;
  double cl = std::cos(lat * kRad);
  return {cl * std::cos(lon * kRad), cl * std::sin(lon * kRad), std::sin(lat * kRad)};
}

std::vector<size_t> sites_nearest_to(const UnitVector& from, const std::vector<UnitVector>& sites) {
  std::vector<double> dot(sites.size());
  for (size_t i = 0; i < sites.size(); ++i)
    dot[i] = from.x * sites[i].x + from.y * sites[i].y + from.z * sites[i].z;
  std::vector<size_t> order(sites.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dot[a] > dot[b]; });
  return order;
}

double rendezvous_score(std::string_view key, std::string_view edge_name, double weight) {
  uint64_t seed = XXH3_64bits(edge_name.data(), edge_name.size());
  uint64_t h = XXH3_64bits_withSeed(key.data(), key.size(), seed);
  // u uniform in (0, 1); -weight / ln(u) gives each edge a share of keys proportional to weight.
  double u = (double(h >> 11) + 0.5) / double(1ull << 53);
  return -weight / std::log(u);
}

namespace {

bool has_family(const EdgeConfig& e, int family) {
  if (family == AF_INET) return !e.ipv4.empty();
  if (family == AF_INET6) return !e.ipv6.empty();
  return true;
}

}  // namespace

Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, const Location& loc,
              std::string_view key, size_t count, int family) {
  return choose(cfg, health, sites_by_distance(cfg, loc), key, count, family);
}

Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, const std::vector<size_t>& order,
              std::string_view key, size_t count, int family) {
  Choice c;
  if (order.empty()) return c;
  c.preferred_site = order.front();
  for (size_t site : order) {
    std::vector<std::pair<double, size_t>> scored;
    size_t in_site = 0, with_family = 0;
    for (size_t i = 0; i < cfg.edges.size(); ++i) {
      const EdgeConfig& e = cfg.edges[i];
      if (e.site != site) continue;
      ++in_site;
      if (!has_family(e, family)) continue;
      ++with_family;
      if (i < health.edges.size() && health.edges[i].available)
        scored.emplace_back(rendezvous_score(key, e.name, double(e.capacity_connections)), i);
    }
    if (scored.empty()) {
      c.reasons.push_back("site " + cfg.sites[site].name + ": " +
                          (!in_site       ? "no edges"
                           : !with_family ? "no edge with an address of this family"
                                          : "no available edge"));
      continue;
    }
    std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t k = 0; k < scored.size() && k < count; ++k) c.edges.push_back(scored[k].second);
    c.found = true;
    c.site = site;
    c.spilled = site != c.preferred_site;
    return c;
  }
  return c;
}

}  // namespace cdn::geo
