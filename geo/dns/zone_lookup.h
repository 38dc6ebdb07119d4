#pragma once
// Which records the zone has at a name. The zone is small (an apex, a few delivery hosts, one name
// per edge, glue), so a scan per query is cheaper than keeping an index in step with reloads.
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
  // Fixed addresses at the name (an edge's own name, or NS glue), textual.
  std::vector<const std::string*> v4, v6;
  uint32_t fixed_ttl = 0;
};

// `name`: lowercase, without the trailing dot ("" is the root). Names in the config are compared
// without regard to case or a trailing dot. A name with nothing of its own but a longer name
// below it (an empty non-terminal) exists, with no records (NODATA, not NXDOMAIN).
NameInfo look_up(const ZoneConfig& zone, std::string_view name);

// The config's spelling of a name as the DNS compares it: lowercase, no trailing dot.
std::string canonical_name(std::string_view name);

}  // namespace cdn::geo::dns
