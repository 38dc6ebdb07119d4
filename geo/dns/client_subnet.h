#pragma once
// EDNS Client Subnet (RFC 7871) as an authoritative server reads it, following Google Public DNS's
// guidelines: a malformed option is FORMERR, source prefix 0 means "use the resolver's address",
// and a private or unroutable address is ignored (the resolver's address is used instead). Only the
// ECS address is subject to that rule: the resolver's own address is used whatever it is.
#include <optional>

#include "geo/dns/knot.h"
#include "geo/dns/steering.h"

namespace cdn::geo::dns {

enum class EcsStatus {
  Absent,          // no option in the query
  Usable,          // `subnet` is set
  SourceZero,      // source prefix 0: resolver address, scope 0
  IgnoredPrivate,  // private/unroutable address: resolver address, scope 0
  Malformed,       // FORMERR
};

struct EcsRead {
  EcsStatus status = EcsStatus::Absent;
  knot_edns_client_subnet_t wire{};  // as received (to echo family, source prefix and address)
  std::optional<ClientSubnet> subnet;
};

// `option` is the whole option (code, length, data) as knot_pkt_edns_option returns it, or null.
EcsRead read_client_subnet(const uint8_t* option);

// True for addresses no viewer can have on the Internet: RFC 1918, CGNAT, loopback, link-local,
// "this network", multicast, reserved, ULA, IPv4-mapped forms of those. Documentation ranges are
// deliberately not here: test fixtures place viewers in them.
bool is_unroutable(const sockaddr_storage& addr);

}  // namespace cdn::geo::dns
