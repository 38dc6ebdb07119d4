#pragma once
// An IPv4 or IPv6 address as 128 bits (IPv4 in the top 32), cut to a prefix length: the common
// currency of coverage zones, MaxMind networks and rendezvous keys.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdn::geo {

struct IpAddr {
  int family = 0;  // AF_INET or AF_INET6
  uint64_t hi = 0, lo = 0;
  int bits() const { return family == AF_INET ? 32 : 128; }
  bool operator==(const IpAddr&) const = default;
};

std::optional<IpAddr> ip_from_sockaddr(const sockaddr_storage& ss);
std::optional<IpAddr> parse_ip(std::string_view text);
// The first `prefix` bits of a (prefix clamped to the family's width).
IpAddr masked(const IpAddr& a, int prefix);
sockaddr_storage to_sockaddr(const IpAddr& a);
std::string to_string(const IpAddr& a);

struct IpPrefix {
  IpAddr addr;  // bits past len are zero
  int len = 0;
};
// "192.0.2.0/24", "2001:db8::/32"; a bare address is a full-length prefix. Bits past the length
// are an error (a typo in a coverage file should not silently widen a zone).
std::optional<IpPrefix> parse_prefix(std::string_view text, std::string* why);

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const {
    return size_t(a.hi * 0x9E3779B97F4A7C15ull ^ a.lo ^ uint64_t(a.family));
  }
};

}  // namespace cdn::geo
