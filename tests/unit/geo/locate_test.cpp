// Locating viewers: coverage zones (longest prefix, its length as scope), MaxMind City lookups
// (country-only and imprecise answers are misses), the default site, and reloads that keep the
// old data when a new file is broken.
#include <gtest/gtest.h>

#include <random>

#include "geo/coverage_zones.h"
#include "geo/data_watcher.h"
#include "geo/locator.h"
#include "geo/maxmind_db.h"
#include "geo_fixture.h"

namespace cdn::geo {
namespace {

const std::vector<std::string> kSites = {"fra", "ams", "lon"};

IpAddr ip(const char* s) {
  return *parse_ip(s);
}

TEST(CoverageZones, LongestPrefixWinsAndGivesTheScope) {
  auto z = CoverageZones::parse(
      "# comment\n10.0.0.0/8 fra\n10.1.0.0/16 ams  # more specific\n10.1.2.0/24 lon\n"
      "2001:db8::/32 ams\n2001:db8:aa::/48 lon\n",
      "cov.txt", kSites);
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z->size(), 5u);
  auto expect_hit = [&](const char* addr, size_t site, int prefix) {
    auto h = z->lookup(ip(addr));
    ASSERT_TRUE(h) << addr;
    EXPECT_EQ(h->site, site) << addr;
    EXPECT_EQ(h->prefix, prefix) << addr;
  };
  expect_hit("10.9.9.9", 0, 8);
  expect_hit("10.1.9.9", 1, 16);
  expect_hit("10.1.2.200", 2, 24);
  expect_hit("2001:db8:aa:1::5", 2, 48);
  expect_hit("2001:db8:bb::1", 1, 32);
  EXPECT_FALSE(z->lookup(ip("11.0.0.1")));
  EXPECT_FALSE(z->lookup(ip("2001:db9::1")));
  // An IPv4 zone never matches an IPv6 address with the same leading bits.
  EXPECT_FALSE(z->lookup(ip("a00::1")));
}

// The flattened ranges against the definition: for random nested, adjacent and duplicated
// zones (with /0 and full-length ones among them), every lookup answers what a scan for the
// longest matching prefix (the first listed among equal ones) answers.
TEST(CoverageZones, FlatRangesAnswerAsTheLongestPrefixScan) {
  std::mt19937_64 rng(20261130);
  for (int round = 0; round < 40; ++round) {
    struct Z {
      IpAddr base;
      int len;
      size_t site;
    };
    std::vector<Z> zones;
    std::string text;
    const bool v6 = round % 2 == 1;
    const int bits = v6 ? 128 : 32;
    auto random_addr = [&] {
      // A few clustered networks, so that zones nest and touch.
      IpAddr a;
      a.family = v6 ? AF_INET6 : AF_INET;
      uint64_t cluster = rng() % 4;
      a.hi = v6 ? (0x20010db800000000ull | (cluster << 24) | (rng() & 0xffffff)) : ((0x0a000000ull | (cluster << 16) | (rng() & 0xffff)) << 32);
      a.lo = v6 ? rng() : 0;
      return a;
    };
    const int n = 1 + int(rng() % 60);
    for (int i = 0; i < n; ++i) {
      int len = int(rng() % (bits + 1));
      if (i == 0 && round % 5 == 0) len = 0;
      Z z{masked(random_addr(), len), len, size_t(rng() % kSites.size())};
      zones.push_back(z);
      text += to_string(z.base) + "/" + std::to_string(len) + " " + kSites[z.site] + "\n";
      if (rng() % 8 == 0) {  // the same prefix again, another site: the first one wins
        zones.push_back(Z{z.base, len, (z.site + 1) % kSites.size()});
        text += to_string(z.base) + "/" + std::to_string(len) + " " + kSites[(z.site + 1) % kSites.size()] + "\n";
      }
    }
    auto cz = CoverageZones::parse(text, "cov.txt", kSites);
    ASSERT_TRUE(cz.ok()) << cz.error().message;
    for (int q = 0; q < 2000; ++q) {
      IpAddr a = random_addr();
      if (q % 3 == 0 && !zones.empty()) {  // the edges of a zone
        const Z& z = zones[rng() % zones.size()];
        a = z.base;
        if (q % 2 == 0) {  // its last address
          unsigned __int128 v = (static_cast<unsigned __int128>(a.hi) << 64) | a.lo;
          const int host = 128 - z.len;  // lengths count from the top bit in both families
          if (host > 0) v |= host >= 128 ? ~static_cast<unsigned __int128>(0) : ((static_cast<unsigned __int128>(1) << host) - 1);
          if (!v6) v &= ~((static_cast<unsigned __int128>(1) << 96) - 1);  // IPv4 has only the top 32 bits
          a.hi = uint64_t(v >> 64);
          a.lo = uint64_t(v);
        }
      }
      const Z* best = nullptr;
      for (const Z& z : zones)
        if (masked(a, z.len) == z.base && (!best || z.len > best->len)) best = &z;
      auto hit = cz->lookup(a);
      ASSERT_EQ(bool(hit), bool(best)) << to_string(a) << "\n" << text;
      if (best) {
        EXPECT_EQ(hit->site, best->site) << to_string(a) << "\n" << text;
        EXPECT_EQ(hit->prefix, best->len) << to_string(a);
      }
    }
  }
}

TEST(CoverageZones, ErrorsNameFileAndLine) {
  auto z = CoverageZones::parse(
      "10.0.0.0/8 fra\n10.0.0.1/8 fra\n10.0.0.0/33 ams\nnonsense\n10.2.0.0/16 mars\n", "cov.txt",
      kSites);
  ASSERT_FALSE(z.ok());
  const std::string& m = z.error().message;
  EXPECT_NE(m.find("cov.txt:2: address bits past the prefix length"), std::string::npos) << m;
  EXPECT_NE(m.find("cov.txt:3: bad prefix length"), std::string::npos) << m;
  EXPECT_NE(m.find("cov.txt:4: expected \"CIDR site\""), std::string::npos) << m;
  EXPECT_NE(m.find("cov.txt:5: no site named \"mars\""), std::string::npos) << m;
}

class MaxMindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(test::test_mmdb().empty())
        << "could not build the test database with make_mmdb.pl";
    auto db = MaxMindDb::open(test::test_mmdb());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db.value());
  }
  std::unique_ptr<MaxMindDb> db_;
};

TEST_F(MaxMindTest, CityAnswerGivesCoordinatesAndTheNetworkPrefix) {
  MaxMindMiss miss{};
  auto h = db_->lookup(to_sockaddr(ip("198.51.100.77")), 200, &miss);
  ASSERT_TRUE(h);
  EXPECT_NEAR(h->lat, 50.11, 1e-9);
  EXPECT_NEAR(h->lon, 8.68, 1e-9);
  EXPECT_EQ(h->accuracy_radius_km, 20u);
  EXPECT_EQ(h->prefix, 24);  // in IPv4 terms, not the tree's ::/96-based netmask
  h = db_->lookup(to_sockaddr(ip("2001:db8:1::99")), 200, &miss);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->prefix, 48);
  EXPECT_NEAR(h->lat, 52.37, 1e-9);
}

TEST_F(MaxMindTest, CountryOnlyImpreciseAndUnknownAreMisses) {
  MaxMindMiss miss{};
  EXPECT_FALSE(db_->lookup(to_sockaddr(ip("192.0.2.9")), 5000, &miss));
  EXPECT_EQ(miss, MaxMindMiss::CountryOnly);
  EXPECT_FALSE(db_->lookup(to_sockaddr(ip("203.0.113.200")), 200, &miss));
  EXPECT_EQ(miss, MaxMindMiss::TooImprecise);
  EXPECT_TRUE(db_->lookup(to_sockaddr(ip("203.0.113.200")), 1000, &miss));  // within a wider limit
  EXPECT_FALSE(db_->lookup(to_sockaddr(ip("100.64.0.1")), 200, &miss));
  EXPECT_EQ(miss, MaxMindMiss::NotFound);
}

TEST(MaxMindDbOpen, BrokenFileIsAnErrorNamingIt) {
  auto p = test::temp_dir() / "broken.mmdb";
  test::write_file(p, "this is not a maxmind database");
  auto db = MaxMindDb::open(p.string());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find(p.string()), std::string::npos) << db.error().message;
}

class LocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = test::two_sites();
    cov_ = test::temp_dir() / "cov.txt";
    test::write_file(cov_, "198.51.100.128/25 lon\n");
    cfg_.coverage_zones = cov_.string();
    cfg_.maxmind = test::test_mmdb();
    cfg_.default_site = 2;
    auto d = load_locator_data(cfg_);
    ASSERT_TRUE(d.ok()) << d.error().message;
    loc_ = std::make_unique<Locator>(std::move(d.value()));
  }
  GeoConfig cfg_;
  std::filesystem::path cov_;
  std::unique_ptr<Locator> loc_;
};

TEST_F(LocatorTest, CoverageThenMaxMindThenDefault) {
  Location l = loc_->locate(ip("198.51.100.200"), cfg_);  // in both: coverage wins
  EXPECT_EQ(l.by, LocatedBy::Coverage);
  EXPECT_EQ(l.site, 2u);
  EXPECT_EQ(l.scope, 25);
  l = loc_->locate(ip("198.51.100.5"), cfg_);
  EXPECT_EQ(l.by, LocatedBy::MaxMind);
  EXPECT_FALSE(l.site);
  EXPECT_EQ(l.scope, 24);
  l = loc_->locate(ip("192.0.2.1"), cfg_);  // country-only: not sent to the country's centre
  EXPECT_EQ(l.by, LocatedBy::Default);
  EXPECT_EQ(l.site, 2u);
  EXPECT_EQ(l.scope, 0);
  EXPECT_EQ(l.maxmind_miss, "country-only");
}

TEST_F(LocatorTest, ReloadTakesANewFileAndKeepsTheOldOneWhenBroken) {
  test::write_file(cov_, "198.51.100.0/24 ams\n");
  ASSERT_TRUE(loc_->reload(cfg_).ok());
  Location l = loc_->locate(ip("198.51.100.5"), cfg_);
  EXPECT_EQ(l.by, LocatedBy::Coverage);
  EXPECT_EQ(l.site, 1u);
  test::write_file(cov_, "198.51.100.0/24 nowhere\n");
  auto r = loc_->reload(cfg_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no site named \"nowhere\""), std::string::npos);
  l = loc_->locate(ip("198.51.100.5"), cfg_);
  EXPECT_EQ(l.by, LocatedBy::Coverage);  // the old zones still answer
  EXPECT_EQ(l.site, 1u);
}

TEST_F(LocatorTest, WatcherReloadsOnlyWhenAFileChanges) {
  DataWatcher w(*loc_, cfg_);
  EXPECT_FALSE(w.check());
  test::write_file(cov_, "198.51.100.0/24 ams\n# now longer, so the size changes too\n");
  EXPECT_TRUE(w.check());
  EXPECT_EQ(loc_->locate(ip("198.51.100.5"), cfg_).site, 1u);
  EXPECT_FALSE(w.check());
  test::write_file(cov_, "198.51.100.0/24 atlantis\n");
  EXPECT_FALSE(w.check());  // broken: logged, old data kept
  EXPECT_EQ(loc_->locate(ip("198.51.100.5"), cfg_).site, 1u);
}

}  // namespace
}  // namespace cdn::geo
