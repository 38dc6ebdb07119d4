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
  Table& t = p.addr.family == AF_INET ? v4_ : v6_;
  auto& m = t.by_length[p.len];
  if (m.empty()) {
    t.lengths.push_back(p.len);
    std::sort(t.lengths.begin(), t.lengths.end(), std::greater<>());
  }
  if (m.emplace(p.addr, site).second) ++count_;
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
  if (!errors.empty()) {
    std::string msg;
    for (auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return Error{msg};
  }
  return z;
}

std::optional<CoverageHit> CoverageZones::lookup(const IpAddr& a) const {
  const Table& t = a.family == AF_INET ? v4_ : v6_;
  for (int len : t.lengths) {
    const auto& m = t.by_length.at(len);
    if (auto it = m.find(masked(a, len)); it != m.end())
      return CoverageHit{it->second, uint8_t(len)};
  }
  return std::nullopt;
}

Result<CoverageZones> load_coverage_zones(const std::string& path,
                                          const std::vector<std::string>& site_names) {
  auto text = config::read_file(path);
  if (!text) return text.error();
  return CoverageZones::parse(*text, path, site_names);
}

}  // namespace cdn::geo
