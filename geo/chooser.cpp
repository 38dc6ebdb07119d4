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

bool SiteOrder::next(size_t& site) {
  if (sites_.empty()) {
    if (given_ >= listed_.size()) return false;
    site = listed_[given_++];
    return true;
  }
  if (given_ >= sites_.size()) return false;
  // The best site after the last one given: nearer (higher dot product) first, then lower index,
  // so ties keep config order, as a stable sort would.
  bool found = false;
  double best_dot = 0;
  for (size_t i = 0; i < sites_.size(); ++i) {
    double dot = from_.x * sites_[i].x + from_.y * sites_[i].y + from_.z * sites_[i].z;
    bool after_last = given_ == 0 || dot < last_dot_ || (dot == last_dot_ && i > last_site_);
    if (after_last && (!found || dot > best_dot)) {
      found = true;
      best_dot = dot;
      site = i;
    }
  }
  if (!found) return false;
  ++given_;
  last_dot_ = best_dot;
  last_site_ = site;
  return true;
}

std::vector<size_t> sites_nearest_to(const UnitVector& from, const std::vector<UnitVector>& sites) {
  std::vector<size_t> order;
  SiteOrder o(from, sites);
  for (size_t site; o.next(site);) order.push_back(site);
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
  std::vector<size_t> order = sites_by_distance(cfg, loc);
  return choose(cfg, health, SiteOrder(order), key, count, family);
}

Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, const std::vector<size_t>& order,
              std::string_view key, size_t count, int family) {
  return choose(cfg, health, SiteOrder(order), key, count, family);
}

Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, SiteOrder order,
              std::string_view key, size_t count, int family, bool explain) {
  Choice c;
  count = std::min(count, EdgePicks::kMax);
  size_t site = 0;
  for (bool first = true; order.next(site); first = false) {
    if (first) c.preferred_site = site;
    // The best `count` edges so far, best first (a small insertion sort: no buffer per site).
    std::array<std::pair<double, size_t>, EdgePicks::kMax> best;
    size_t kept = 0;
    size_t in_site = 0, with_family = 0;
    for (size_t i = 0; i < cfg.edges.size(); ++i) {
      const EdgeConfig& e = cfg.edges[i];
      if (e.site != site) continue;
      ++in_site;
      if (!has_family(e, family)) continue;
      ++with_family;
      if (i >= health.edges.size() || !health.edges[i].available || count == 0) continue;
      double score = rendezvous_score(key, e.name, double(e.capacity_connections));
      size_t at = kept;
      while (at > 0 && best[at - 1].first < score) --at;
      if (at >= count) continue;
      if (kept < count) ++kept;
      for (size_t k = kept - 1; k > at; --k) best[k] = best[k - 1];
      best[at] = {score, i};
    }
    if (kept == 0) {
      if (explain)
        c.reasons.push_back("site " + cfg.sites[site].name + ": " +
                            (!in_site       ? "no edges"
                             : !with_family ? "no edge with an address of this family"
                                            : "no available edge"));
      continue;
    }
    for (size_t k = 0; k < kept; ++k) c.edges.push_back(best[k].second);
    c.found = true;
    c.site = site;
    c.spilled = site != c.preferred_site;
    return c;
  }
  return c;
}

}  // namespace cdn::geo
