#pragma once
// Which records the zone has at a name. The zone is small (an apex, a few delivery hosts, one name
// per edge, glue), so a scan per query is cheaper than keeping an index in step with reloads.
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "geo/dns/steering.h"

namespace cdn::geo::dns {

struct NameInfo {
  enum class Kind { OutOfZone, Missing, Exists };
  Kind kind = Kind::OutOfZone;
  bool apex = false;
  int delivery = -1;  // index into ZoneConfig::delivery_hosts when the name is steered
  // Fixed addresses at the name: an edge's own name, and NS glue (ZoneConfig::ns_glue entries of
  // this name); see for_each_fixed_address.
  const ZoneConfig::EdgeName* edge = nullptr;
  bool glue = false;
  uint32_t fixed_ttl = 0;
};

// `name`: lowercase, without the trailing dot ("" is the root). Names in the config are compared
// without regard to case or a trailing dot. A name with nothing of its own but a longer name
// below it (an empty non-terminal) exists, with no records (NODATA, not NXDOMAIN).
NameInfo look_up(const ZoneConfig& zone, std::string_view name);

// The config's spelling of a name as the DNS compares it: lowercase, no trailing dot.
std::string canonical_name(std::string_view name);
// Two names compared as the DNS does: without regard to case or a trailing dot.
bool same_name(std::string_view a, std::string_view b);

// Calls fn(const std::string& ip) for each fixed address of `family` at the name `info` describes
// (the edge's, then the glue's): no copies, nothing allocated.
template <typename Fn>
void for_each_fixed_address(const ZoneConfig& zone, std::string_view name, const NameInfo& info,
                            int family, Fn&& fn) {
  if (info.edge != nullptr)
    for (const auto& ip : family == AF_INET ? info.edge->v4 : info.edge->v6) fn(ip);
  if (!info.glue) return;
  for (const auto& [ns, ip] : zone.ns_glue)
    if ((ip.find(':') != std::string::npos) == (family == AF_INET6) && same_name(ns, name)) fn(ip);
}

}  // namespace cdn::geo::dns
