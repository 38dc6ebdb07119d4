#pragma once
// The data the geo micro-benchmarks steer with, at a realistic size: 8 sites, 64 edges, 10,000
// coverage zones and a 4,096-network MaxMind City database written by the project's own fixture
// (tests/unit/geo/fixtures/make_mmdb.pl, MaxMind's Perl writer); and the viewers they ask for.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "geo/ip_prefix.h"
#include "geo/steering_core.h"

namespace cdn::geo::bench {

namespace fs = std::filesystem;

constexpr size_t kSites = 8, kEdgesPerSite = 8, kCoverageZones = 10000, kMaxMindNets = 4096;
constexpr size_t kQueries = 4096;  // distinct viewers cycled through, so lookups do not stay in L1

struct City {
  const char* name;
  double lat, lon;
};
constexpr City kCities[kSites] = {
    {"fra", 50.11, 8.68},  {"ams", 52.37, 4.90},  {"lon", 51.51, -0.13}, {"par", 48.85, 2.35},
    {"mad", 40.42, -3.70}, {"waw", 52.23, 21.01}, {"sto", 59.33, 18.07}, {"mil", 45.46, 9.19}};

inline fs::path repo_root() {  // __FILE__ is absolute or relative to the binary's directory
  fs::path here(__FILE__);
  if (here.is_relative()) here = fs::read_symlink("/proc/self/exe").parent_path() / here;
  return here.parent_path().parent_path().parent_path();
}

inline fs::path work_dir() {
  auto d = fs::temp_directory_path() / ("cdn-bench-geo-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

// Coverage zones 10.x.y.0/24 (and a /16 over each block, so longest-prefix matters), one site each.
inline void write_coverage(const fs::path& p) {
  std::ofstream out(p);
  size_t n = 0;
  for (size_t b = 0; n < kCoverageZones; ++b) {
    out << "10." << b << ".0.0/16 " << kCities[b % kSites].name << '\n';
    ++n;
    for (size_t c = 0; c < 250 && n < kCoverageZones; ++c, ++n)
      out << "10." << b << '.' << c << ".0/24 " << kCities[(b + c) % kSites].name << '\n';
  }
}

// MaxMind networks 81.2.0.0/24 ... near the sites' cities (jittered), 20 km accuracy. Routable
// addresses: an ECS option with a private one would be ignored.
inline std::string write_mmdb(const fs::path& dir) {
  auto src = dir / "cities.txt", out = dir / "cities.mmdb";
  {
    std::ofstream s(src);
    for (size_t i = 0; i < kMaxMindNets; ++i) {
      const City& c = kCities[i % kSites];
      s << "81." << 2 + i / 256 << '.' << i % 256 << ".0/24 " << c.lat + double(i % 7) * 0.3 << ' '
        << c.lon - double(i % 5) * 0.4 << " 20 " << c.name << i << '\n';
    }
  }
  auto script = repo_root() / "tests/unit/geo/fixtures/make_mmdb.pl";
  std::string cmd = "perl '" + script.string() + "' '" + src.string() + "' '" + out.string() + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  return out.string();
}

struct Fixture {
  std::shared_ptr<GeoConfig> cfg;
  std::unique_ptr<SteeringCore> core;
  std::string error;
};

inline Fixture& fixture() {
  static Fixture f = [] {
    Fixture r;
    auto dir = work_dir();
    auto g = std::make_shared<GeoConfig>();
    g->zone = "cdn.bench";
    g->delivery_hosts = {{"video.cdn.bench", true}};
    for (const City& c : kCities) g->sites.push_back({c.name, c.lat, c.lon});
    for (size_t s = 0; s < kSites; ++s)
      for (size_t e = 0; e < kEdgesPerSite; ++e) {
        EdgeConfig edge;
        edge.name = std::string(kCities[s].name) + "-" + std::to_string(e + 1);
        edge.site = s;
        edge.ipv4 = {"192.0.2." + std::to_string(s * kEdgesPerSite + e + 1)};
        edge.capacity_connections = 10000 + 2500 * (e % 3);  // unequal weights
        g->edges.push_back(std::move(edge));
      }
    write_coverage(dir / "coverage.txt");
    g->coverage_zones = (dir / "coverage.txt").string();
    g->maxmind = write_mmdb(dir);
    if (g->maxmind.empty()) {
      r.error = "make_mmdb.pl failed (is libmaxmind-db-writer-perl installed?)";
      return r;
    }
    g->default_site = 0;
    auto data = load_locator_data(*g);
    fs::remove_all(dir);  // the database is mapped, the zones are in memory
    if (!data.ok()) {
      r.error = data.error().message;
      return r;
    }
    r.cfg = g;
    r.core = std::make_unique<SteeringCore>(g, std::move(data.value()));
    auto h = std::make_shared<HealthSnapshot>();
    h->edges.resize(g->edges.size());
    for (auto& e : h->edges) {
      e.health = EdgeStatus::Health::Up;
      e.available = true;
    }
    r.core->publish(h);
    return r;
  }();
  return f;
}

enum class Viewers { Coverage, MaxMind, Default, Mixed };

inline std::vector<SteerQuery> make_queries(Viewers kind) {
  std::mt19937 rng(42);
  std::vector<SteerQuery> qs(kQueries);
  for (size_t i = 0; i < kQueries; ++i) {
    Viewers k = kind == Viewers::Mixed ? Viewers(i % 3) : kind;
    std::string ip;
    switch (k) {
      case Viewers::Coverage:
        ip = "10." + std::to_string(rng() % 39) + "." + std::to_string(rng() % 256) + "." +
             std::to_string(rng() % 256);
        break;
      case Viewers::MaxMind:
        ip = "81." + std::to_string(2 + rng() % (kMaxMindNets / 256)) + "." +
             std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
        break;
      default:
        ip = "100.64." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
    }
    qs[i].host = "video.cdn.bench";
    qs[i].family = AF_INET;
    qs[i].resolver = to_sockaddr(*parse_ip(ip));
  }
  return qs;
}

}  // namespace cdn::geo::bench
