// Choosing edges: nearest site by great-circle distance, spill to the next nearest when a site has
// no available edge, and weighted rendezvous inside a site (stable: an edge leaving moves only the
// keys it owned; shares follow capacity).
#include <gtest/gtest.h>

#include <map>

#include "geo/chooser.h"
#include "geo_fixture.h"

namespace cdn::geo {
namespace {

using test::all_available;

Location at(double lat, double lon) {
  Location l;
  l.by = LocatedBy::MaxMind;
  l.lat = lat;
  l.lon = lon;
  return l;
}

TEST(Distance, GreatCircleKilometres) {
  EXPECT_NEAR(distance_km(50.11, 8.68, 52.37, 4.90), 364, 5);       // Frankfurt - Amsterdam
  EXPECT_NEAR(distance_km(51.51, -0.13, 40.71, -74.01), 5570, 20);  // London - New York
  EXPECT_NEAR(distance_km(0, 179.5, 0, -179.5), 111, 1);            // across the antimeridian
}

TEST(Distance, UnitVectorOrderMatchesGreatCircleOrder) {
  GeoConfig g = test::two_sites();
  std::vector<UnitVector> v;
  for (auto& s : g.sites) v.push_back(unit_vector(s.lat, s.lon));
  for (auto [lat, lon] :
       {std::pair{52.08, 4.30}, {53.5, -2.2}, {48.1, 11.6}, {-33.9, 151.2}, {40.7, -74.0}}) {
    Location l = at(lat, lon);
    EXPECT_EQ(sites_nearest_to(unit_vector(lat, lon), v), sites_by_distance(g, l))
        << lat << "," << lon;
  }
}

TEST(Choose, NearestSiteWins) {
  GeoConfig g = test::two_sites();
  HealthSnapshot h = all_available(g);
  Choice c = choose(g, h, at(52.0, 5.0), "k", 1, 0);  // Utrecht
  ASSERT_TRUE(c.found);
  EXPECT_EQ(g.sites[c.site].name, "ams");
  EXPECT_FALSE(c.spilled);
  c = choose(g, h, at(53.5, -2.2), "k", 1, 0);  // Manchester
  EXPECT_EQ(g.sites[c.site].name, "lon");
  Location cov;
  cov.by = LocatedBy::Coverage;
  cov.site = 0;
  c = choose(g, h, cov, "k", 1, 0);
  EXPECT_EQ(g.sites[c.site].name, "fra");
}

TEST(Choose, FullSiteSpillsToTheNextNearest) {
  GeoConfig g = test::two_sites();
  HealthSnapshot h = all_available(g);
  h.edges[2].available = false;                         // ams-1
  h.edges[3].available = false;                         // ams-2
  Choice c = choose(g, h, at(52.08, 4.30), "k", 1, 0);  // The Hague
  ASSERT_TRUE(c.found);
  EXPECT_TRUE(c.spilled);
  EXPECT_EQ(g.sites[c.preferred_site].name, "ams");
  EXPECT_EQ(g.sites[c.site].name, "lon");  // London is nearer to The Hague than Frankfurt
  ASSERT_EQ(c.reasons.size(), 1u);
  EXPECT_EQ(c.reasons[0], "site ams: no available edge");
  for (auto& e : h.edges) e.available = false;
  c = choose(g, h, at(52.0, 5.0), "k", 1, 0);
  EXPECT_FALSE(c.found);
  EXPECT_EQ(c.reasons.size(), 3u);
}

TEST(Choose, FamilyFilterSkipsEdgesWithoutSuchAddress) {
  GeoConfig g = test::two_sites();
  HealthSnapshot h = all_available(g);
  Choice c = choose(g, h, at(50.1, 8.7), "k", 2, AF_INET6);  // only ams-1 has IPv6
  ASSERT_TRUE(c.found);
  ASSERT_EQ(c.edges.size(), 1u);
  EXPECT_EQ(g.edges[c.edges[0]].name, "ams-1");
  EXPECT_TRUE(c.spilled);
}

TEST(Choose, RecordsPerAnswerGivesDistinctEdgesBestFirst) {
  GeoConfig g = test::two_sites();
  HealthSnapshot h = all_available(g);
  Choice c = choose(g, h, at(50.1, 8.7), "some-key", 5, 0);
  ASSERT_EQ(c.edges.size(), 2u);  // fra has two edges
  EXPECT_NE(c.edges[0], c.edges[1]);
  Choice one = choose(g, h, at(50.1, 8.7), "some-key", 1, 0);
  EXPECT_EQ(one.edges[0], c.edges[0]);
}

GeoConfig one_site(int edges, uint64_t capacity_of_first = 1000) {
  GeoConfig g;
  g.sites = {{"fra", 50.11, 8.68}};
  for (int i = 0; i < edges; ++i)
    g.edges.push_back(
        test::edge("e" + std::to_string(i), 0, "192.0.2.1", i == 0 ? capacity_of_first : 1000));
  return g;
}

TEST(Rendezvous, AnEdgeLeavingMovesOnlyItsOwnKeys) {
  GeoConfig g = one_site(5);
  HealthSnapshot h = all_available(g);
  Location l = at(50, 8);
  std::vector<size_t> before;
  for (int k = 0; k < 5000; ++k)
    before.push_back(choose(g, h, l, "/vod/" + std::to_string(k), 1, 0).edges[0]);
  h.edges[3].available = false;
  int moved = 0, owned = 0;
  for (int k = 0; k < 5000; ++k) {
    size_t now = choose(g, h, l, "/vod/" + std::to_string(k), 1, 0).edges[0];
    if (before[size_t(k)] == 3) {
      ++owned;
      EXPECT_NE(now, 3u);
    } else {
      EXPECT_EQ(now, before[size_t(k)]) << "key " << k << " moved though its edge stayed";
      moved += now != before[size_t(k)];
    }
  }
  EXPECT_EQ(moved, 0);
  EXPECT_GT(owned, 700);  // about a fifth of the keys were edge 3's
  EXPECT_LT(owned, 1300);
  h.edges[3].available = true;  // and it gets exactly those back
  for (int k = 0; k < 5000; ++k)
    EXPECT_EQ(choose(g, h, l, "/vod/" + std::to_string(k), 1, 0).edges[0], before[size_t(k)]);
}

TEST(Rendezvous, SharesFollowCapacity) {
  GeoConfig g = one_site(3, 2000);  // e0 has twice the capacity of e1 and e2
  HealthSnapshot h = all_available(g);
  std::map<size_t, int> count;
  for (int k = 0; k < 20000; ++k)
    ++count[choose(g, h, at(50, 8), "key" + std::to_string(k), 1, 0).edges[0]];
  EXPECT_NEAR(count[0] / 20000.0, 0.5, 0.03);
  EXPECT_NEAR(count[1] / 20000.0, 0.25, 0.03);
  EXPECT_NEAR(count[2] / 20000.0, 0.25, 0.03);
}

}  // namespace
}  // namespace cdn::geo
