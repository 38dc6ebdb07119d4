#pragma once
// Client address binding (claim `cip`): a single address ("203.0.113.7", "2001:db8::1") or a CIDR
// block ("203.0.113.0/24"). IPv4-mapped IPv6 client addresses (::ffff:a.b.c.d, as a dual-stack
// socket reports them) match their IPv4 form.
#include <string>
#include <string_view>

namespace cdn::auth {

bool valid_address_spec(std::string_view spec);
bool address_matches(std::string_view spec, std::string_view client);

// Where a client is, for stream sessions: its address cut to the prefix of its family, as CIDR text
// ("203.0.113.0/24", "2001:db8:0:100::/56"). An IPv4-mapped IPv6 address is its IPv4 form; the
// family is part of the place (no IPv4 place equals an IPv6 one). Text that is not an address is
// returned unchanged. Prefixes are clamped to the family's width.
std::string address_place(std::string_view client, int prefix_v4, int prefix_v6);

}  // namespace cdn::auth
