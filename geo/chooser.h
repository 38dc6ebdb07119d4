#pragma once
// Choosing edges for a located viewer: the nearest site (great-circle) with an available edge, a
// full site spilling to the next nearest; inside the site, weighted rendezvous hashing (XXH3,
// weight = capacity) so each edge owns a stable share of the keys and one edge leaving moves only
// its own.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "geo/edge_health.h"
#include "geo/geo_config.h"
#include "geo/locator.h"

namespace cdn::geo {

// Great-circle distance in km (haversine on a sphere of the Earth's mean radius).
double distance_km(double lat1, double lon1, double lat2, double lon2);

// Sites from nearest to farthest for a location: a site named by coverage or default comes first,
// then the others by distance from it; MaxMind coordinates order every site by distance.
std::vector<size_t> sites_by_distance(const GeoConfig& cfg, const Location& loc);

// A point on the unit sphere: sorting sites by the dot product with the viewer's point orders them
// by great-circle distance with no trigonometry per site.
struct UnitVector {
  double x = 0, y = 0, z = 0;
};
UnitVector unit_vector(double lat, double lon);
// Sites nearest first from a point, given each site's unit vector; ties keep config order.
std::vector<size_t> sites_nearest_to(const UnitVector& from, const std::vector<UnitVector>& sites);

// The rendezvous score of `key` on an edge (higher wins); weight scales the edge's share.
double rendezvous_score(std::string_view key, std::string_view edge_name, double weight);

struct Choice {
  bool found = false;
  size_t site = 0;                   // where the edges are (valid when found)
  size_t preferred_site = 0;         // nearest site, whether or not it had room
  bool spilled = false;              // found elsewhere than the preferred site
  std::vector<size_t> edges;         // best first, at most `count`
  std::vector<std::string> reasons;  // each site passed over and why
};

// Walks `site_order` (nearest first) to the first site with an available edge. `family` 0 = any
// edge; AF_INET / AF_INET6 = only edges with an address of that family.
Choice choose(const GeoConfig& cfg, const HealthSnapshot& health,
              const std::vector<size_t>& site_order, std::string_view key, size_t count,
              int family);
// The same from a location (orders the sites first).
Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, const Location& loc,
              std::string_view key, size_t count, int family);

}  // namespace cdn::geo
