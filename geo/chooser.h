#pragma once
// Choosing edges for a located viewer: the nearest site (great-circle) with an available edge, a
// full site spilling to the next nearest; inside the site, weighted rendezvous hashing (XXH3,
// weight = capacity) so each edge owns a stable share of the keys and one edge leaving moves only
// its own.
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
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

// The sites in the order a decision tries them, one at a time: a list worked out in advance (a
// viewer located to a site), or nearest first from a point (MaxMind coordinates). From a point each
// step finds the next nearest by a scan, so the usual decision (the nearest site has room) costs
// one scan and no sort or allocation. Both borrow their spans: keep them alive while in use.
class SiteOrder {
 public:
  explicit SiteOrder(std::span<const size_t> listed) : listed_(listed) {}
  SiteOrder(const UnitVector& from, std::span<const UnitVector> sites)
      : from_(from), sites_(sites) {}
  // The next site, false when every site was given.
  bool next(size_t& site);

 private:
  std::span<const size_t> listed_;
  UnitVector from_;
  std::span<const UnitVector> sites_;
  size_t given_ = 0;
  double last_dot_ = 0;  // the site given last, by (dot product descending, index ascending)
  size_t last_site_ = 0;
};

// The rendezvous score of `key` on an edge (higher wins); weight scales the edge's share.
double rendezvous_score(std::string_view key, std::string_view edge_name, double weight);

// The chosen edges (indexes into GeoConfig::edges), best first: at most kMax, the bound of
// records_per_answer, held inline so that a decision allocates nothing.
class EdgePicks {
 public:
  static constexpr size_t kMax = 16;
  using value_type = size_t;
  using const_iterator = const size_t*;
  using iterator = const_iterator;

  void push_back(size_t edge) {
    if (n_ < kMax) items_[n_++] = edge;
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  size_t operator[](size_t i) const { return items_[i]; }
  size_t front() const { return items_[0]; }
  const_iterator begin() const { return items_.data(); }
  const_iterator end() const { return items_.data() + n_; }
  bool operator==(const EdgePicks& o) const {
    return n_ == o.n_ && std::equal(begin(), end(), o.begin());
  }

 private:
  std::array<size_t, kMax> items_{};
  size_t n_ = 0;
};

struct Choice {
  bool found = false;
  size_t site = 0;                   // where the edges are (valid when found)
  size_t preferred_site = 0;         // nearest site, whether or not it had room
  bool spilled = false;              // found elsewhere than the preferred site
  EdgePicks edges;                   // best first, at most `count`
  std::vector<std::string> reasons;  // each site passed over and why (when asked to explain)
};

// Walks `order` (nearest first) to the first site with an available edge. `family` 0 = any edge;
// AF_INET / AF_INET6 = only edges with an address of that family. `count` is capped at
// EdgePicks::kMax. `explain` fills `reasons` (strings: only for the answers that show them).
Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, SiteOrder order,
              std::string_view key, size_t count, int family, bool explain = true);
Choice choose(const GeoConfig& cfg, const HealthSnapshot& health,
              const std::vector<size_t>& site_order, std::string_view key, size_t count,
              int family);
// The same from a location (orders the sites first).
Choice choose(const GeoConfig& cfg, const HealthSnapshot& health, const Location& loc,
              std::string_view key, size_t count, int family);

}  // namespace cdn::geo
