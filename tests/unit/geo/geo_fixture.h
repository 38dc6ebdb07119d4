#pragma once
// Shared test data for the geo units: a two-site config (fra, ams) and a MaxMind database built
// from fixtures/cities.txt by MaxMind's Perl writer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/config/server_config.h"
#include "geo/edge_health.h"
#include "geo/geo_config.h"

namespace cdn::geo::test {

// __FILE__ is relative to the directory the test was compiled in, which is the binary's own.
inline std::filesystem::path fixtures_dir() {
  std::filesystem::path here(__FILE__);
  if (here.is_relative())
    here = std::filesystem::read_symlink("/proc/self/exe").parent_path() / here;
  return here.parent_path() / "fixtures";
}

inline std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("cdn-geo-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// Builds the test database once per process; empty when the writer is missing (the test fails).
inline std::string test_mmdb() {
  static std::string path = [] {
    auto out = temp_dir() / "cities.mmdb";
    std::string cmd = "perl '" + (fixtures_dir() / "make_mmdb.pl").string() + "' '" +
                      (fixtures_dir() / "cities.txt").string() + "' '" + out.string() + "'";
    return std::system(cmd.c_str()) == 0 ? out.string() : std::string();
  }();
  return path;
}

inline EdgeConfig edge(std::string name, size_t site, std::string v4, uint64_t capacity = 1000) {
  EdgeConfig e;
  e.name = std::move(name);
  e.site = site;
  e.ipv4 = {std::move(v4)};
  e.capacity_connections = capacity;
  return e;
}

// fra (Frankfurt) and ams (Amsterdam), 2 edges each, plus lon (London) with one.
inline GeoConfig two_sites() {
  GeoConfig g;
  g.zone = "cdn.test";
  g.sites = {{"fra", 50.11, 8.68}, {"ams", 52.37, 4.90}, {"lon", 51.51, -0.13}};
  g.edges = {edge("fra-1", 0, "192.0.2.1"), edge("fra-2", 0, "192.0.2.2"),
             edge("ams-1", 1, "192.0.2.3"), edge("ams-2", 1, "192.0.2.4"),
             edge("lon-1", 2, "192.0.2.5")};
  g.edges[2].ipv6 = {"2001:db8::3"};
  return g;
}

// A geo config file's text up to its edges (zone, a delivery host, site fra), and its reader: the
// config tests add `geo.edges` and what they check.
constexpr const char* kConfigHead =
    "tier: geo\n"
    "listen: [{address: 127.0.0.1:1}]\n"
    "geo:\n"
    "  zone: {name: cdn.test, ns: [{name: ns1.cdn.test, address: 127.0.0.1}]}\n"
    "  delivery_hosts: [{name: video.cdn.test}]\n"
    "  sites: [{name: fra, lat: 50, lon: 8}]\n";

inline Result<config::ServerConfig> parse_config(const std::string& rest, GeoConfig& g) {
  return config::parse_server_config(std::string(kConfigHead) + rest, "t.yaml",
                                     [&](config::MapReader& root) { read_geo_section(root, g); });
}

// Every edge of `g` up and available.
inline HealthSnapshot all_available(const GeoConfig& g) {
  HealthSnapshot h;
  h.edges.resize(g.edges.size());
  for (auto& e : h.edges) {
    e.health = EdgeStatus::Health::Up;
    e.available = true;
  }
  return h;
}

}  // namespace cdn::geo::test
