#include "geo/coverage_zones.h"

#include <algorithm>

#include "common/config/reader.h"

namespace cdn::geo {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

void CoverageZones::add(const IpPrefix& p, size_t site) {
  const U128 first = (U128(p.addr.hi) << 64) | p.addr.lo;
  // IPv4 lives in the top 32 bits: its prefix lengths count from the top like IPv6's.
  const U128 host_bits = p.len >= 128 ? U128(0) : (~U128(0) >> p.len);  // (a shift by 128 is undefined)
  (p.addr.family == AF_INET ? read_v4_ : read_v6_).push_back(Zone{first, first | host_bits, uint32_t(site), uint8_t(p.len)});
}

std::vector<CoverageZones::Range> CoverageZones::flatten(std::vector<Zone> zones, size_t& unique) {
  // Broader first at the same start, so a stack of open zones holds each zone above the ones
  // that contain it (CIDR blocks either nest or do not meet).
  std::stable_sort(zones.begin(), zones.end(), [](const Zone& a, const Zone& b) {
    return a.first != b.first ? a.first < b.first : a.len < b.len;
  });
  zones.erase(std::unique(zones.begin(), zones.end(),
                          [](const Zone& a, const Zone& b) { return a.first == b.first && a.len == b.len; }),
              zones.end());
  unique = zones.size();
  std::vector<Range> out;
  std::vector<Zone> open;
  U128 cursor = 0;     // the first address not yet given to a range
  bool done = false;   // the cursor ran past the last address
  auto emit_to = [&](U128 last, const Zone& z) {
    if (done || cursor > last) return;
    out.push_back(Range{cursor, last, z.site, z.len});
    if (last == ~U128(0)) done = true;
    else cursor = last + 1;
  };
  for (const Zone& z : zones) {
    while (!open.empty() && open.back().last < z.first) {
      emit_to(open.back().last, open.back());
      open.pop_back();
    }
    if (!open.empty() && z.first > 0) emit_to(z.first - 1, open.back());
    if (!done) cursor = std::max(cursor, z.first);
    open.push_back(z);
  }
  while (!open.empty()) {
    emit_to(open.back().last, open.back());
    open.pop_back();
  }
  return out;
}

Result<CoverageZones> CoverageZones::parse(std::string_view text, const std::string& file_name,
                                           const std::vector<std::string>& site_names) {
  CoverageZones z;
  std::vector<std::string> errors;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    auto where = file_name + ":" + std::to_string(line_no) + ": ";
    size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      errors.push_back(where + "expected \"CIDR site\"");
      continue;
    }
    std::string why;
    auto prefix = parse_prefix(line.substr(0, sp), &why);
    std::string_view site = trim(line.substr(sp));
    auto it = std::find(site_names.begin(), site_names.end(), site);
    if (!prefix)
      errors.push_back(where + why);
    else if (it == site_names.end())
      errors.push_back(where + "no site named \"" + std::string(site) + "\"");
    else
      z.add(*prefix, size_t(it - site_names.begin()));
    if (errors.size() >= 20) break;  // enough to fix a broken file; do not flood the log
  }
  size_t v4 = 0, v6 = 0;
  z.v4_ = flatten(std::move(z.read_v4_), v4);
  z.v6_ = flatten(std::move(z.read_v6_), v6);
  z.count_ = v4 + v6;
  z.read_v4_ = {};
  z.read_v6_ = {};
  if (!errors.empty()) {
    std::string msg;
    for (auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return Error{msg};
  }
  return z;
}

std::optional<CoverageHit> CoverageZones::lookup(const IpAddr& a) const {
  const std::vector<Range>& t = a.family == AF_INET ? v4_ : v6_;
  const U128 x = (U128(a.hi) << 64) | a.lo;
  auto it = std::upper_bound(t.begin(), t.end(), x, [](U128 v, const Range& r) { return v < r.first; });
  if (it == t.begin()) return std::nullopt;
  --it;
  if (x > it->last) return std::nullopt;
  return CoverageHit{it->site, it->len};
}

Result<CoverageZones> load_coverage_zones(const std::string& path,
                                          const std::vector<std::string>& site_names) {
  auto text = config::read_file(path);
  if (!text) return text.error();
  return CoverageZones::parse(*text, path, site_names);
}

}  // namespace cdn::geo
