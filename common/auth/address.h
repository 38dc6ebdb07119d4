#pragma once
// Client address binding (claim `cip`): a single address ("203.0.113.7", "2001:db8::1") or a CIDR
// block ("203.0.113.0/24"). IPv4-mapped IPv6 client addresses (::ffff:a.b.c.d, as a dual-stack
// socket reports them) match their IPv4 form.
#include <string_view>

namespace cdn::auth {

bool valid_address_spec(std::string_view spec);
bool address_matches(std::string_view spec, std::string_view client);

}  // namespace cdn::auth
