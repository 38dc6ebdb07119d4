#pragma once
// Coverage zones: an operator's own map of client networks to sites, asked before MaxMind.
// File format, one zone per line, '#' starts a comment:
//   192.0.2.0/24      fra
//   2001:db8:100::/40 ams
// The longest matching prefix wins; its length is the ECS scope of the answer.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
  struct Table {  // one family: a map per prefix length present, longest first
    std::vector<int> lengths;
    std::unordered_map<int, std::unordered_map<IpAddr, size_t, IpAddrHash>> by_length;
  };
  void add(const IpPrefix& p, size_t site);
  Table v4_, v6_;
  size_t count_ = 0;
};

Result<CoverageZones> load_coverage_zones(const std::string& path,
                                          const std::vector<std::string>& site_names);

}  // namespace cdn::geo
