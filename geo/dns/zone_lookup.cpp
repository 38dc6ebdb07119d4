#include "geo/dns/zone_lookup.h"

#include <algorithm>

namespace cdn::geo::dns {
namespace {

std::string_view without_dot(std::string_view n) {
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  return n;
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// `name` is already lowercase; config names may not be. No allocation and no locale: this runs
// per query, for every configured name.
bool equal_lower(std::string_view config, std::string_view name) {
  return config.size() == name.size() &&
         std::equal(name.begin(), name.end(), config.begin(),
                    [](char a, char b) { return a == ascii_lower(b); });
}

bool same_as_lower(std::string_view config_name, std::string_view name) {
  return equal_lower(without_dot(config_name), name);
}

// True when the configured `longer` is a proper subdomain of `name` ("a.b.zone" below "b.zone").
bool is_below(std::string_view longer, std::string_view name) {
  longer = without_dot(longer);
  if (longer.size() <= name.size() + 1) return false;
  size_t cut = longer.size() - name.size();
  return longer[cut - 1] == '.' && equal_lower(longer.substr(cut), name);
}

}  // namespace

bool same_name(std::string_view a, std::string_view b) {
  a = without_dot(a);
  b = without_dot(b);
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

NameInfo look_up(const ZoneConfig& zone, std::string_view name) {
  NameInfo info;
  // The query name is below the apex when the apex, spelled as configured, is a suffix of it.
  const std::string_view apex = without_dot(zone.zone);
  info.apex = same_as_lower(apex, name);
  bool in_zone =
      info.apex || (name.size() > apex.size() && name[name.size() - apex.size() - 1] == '.' &&
                    equal_lower(apex, name.substr(name.size() - apex.size())));
  if (!in_zone) return info;
  info.kind = NameInfo::Kind::Missing;
  bool below = false;  // some configured name lies under this one
  for (size_t i = 0; i < zone.delivery_hosts.size(); ++i) {
    if (same_as_lower(zone.delivery_hosts[i], name)) {
      // Steered: nothing else at the name is ever answered, so the per-query path skips the scan
      // of every edge name.
      info.delivery = static_cast<int>(i);
      info.kind = NameInfo::Kind::Exists;
      return info;
    }
    below = below || is_below(zone.delivery_hosts[i], name);
  }
  for (const auto& edge : zone.edge_names) {
    below = below || is_below(edge.name, name);
    if (info.edge != nullptr || !same_as_lower(edge.name, name)) continue;
    if (edge.v4.empty() && edge.v6.empty()) continue;
    info.edge = &edge;
    info.fixed_ttl = zone.edge_name_ttl;
  }
  for (const auto& glue : zone.ns_glue) {
    below = below || is_below(glue.first, name);
    if (same_as_lower(glue.first, name)) info.glue = true;
  }
  if (info.glue && info.fixed_ttl == 0) info.fixed_ttl = zone.apex_ttl;
  bool has_records = info.apex || info.delivery >= 0 || info.edge != nullptr || info.glue;
  if (has_records || below) info.kind = NameInfo::Kind::Exists;
  return info;
}

}  // namespace cdn::geo::dns
