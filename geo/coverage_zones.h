#pragma once
// Coverage zones: an operator's own map of client networks to sites, asked before MaxMind.
// File format, one zone per line, '#' starts a comment:
//   192.0.2.0/24      fra
//   2001:db8:100::/40 ams
// The longest matching prefix wins; its length is the ECS scope of the answer.
//
// At load the zones are flattened into disjoint address ranges, each carrying the most specific
// zone that covers it, so a lookup is one binary search over one array whatever mix of prefix
// lengths the file holds (a table per length costs one hash probe per length present).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.h"
#include "geo/ip_prefix.h"

namespace cdn::geo {

struct CoverageHit {
  size_t site = 0;     // index into the site names given at load
  uint8_t prefix = 0;  // the matching zone's prefix length
};

class CoverageZones {
 public:
  // Errors name "file:line: reason"; sites are matched by name against `site_names`.
  static Result<CoverageZones> parse(std::string_view text, const std::string& file_name,
                                     const std::vector<std::string>& site_names);
  std::optional<CoverageHit> lookup(const IpAddr& a) const;
  size_t size() const { return count_; }

 private:
  using U128 = unsigned __int128;
  struct Zone {  // as read; the first of two zones with the same prefix wins
    U128 first, last;
    uint32_t site;
    uint8_t len;
  };
  struct Range {  // [first, last] answers `site` with scope `len`
    U128 first, last;
    uint32_t site;
    uint8_t len;
  };
  void add(const IpPrefix& p, size_t site);
  // Turns the zones read into sorted disjoint ranges (nested prefixes: the inner one wins).
  // `unique`: how many distinct prefixes there were.
  static std::vector<Range> flatten(std::vector<Zone> zones, size_t& unique);
  std::vector<Zone> read_v4_, read_v6_;  // only while parsing
  std::vector<Range> v4_, v6_;
  size_t count_ = 0;
};

Result<CoverageZones> load_coverage_zones(const std::string& path,
                                          const std::vector<std::string>& site_names);

}  // namespace cdn::geo
