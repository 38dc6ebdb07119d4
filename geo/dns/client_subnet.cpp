#include "geo/dns/client_subnet.h"

#include <arpa/inet.h>

#include <cstring>

namespace cdn::geo::dns {
namespace {

constexpr uint16_t kFamilyIpv4 = 1, kFamilyIpv6 = 2;  // IANA address family numbers

constexpr uint32_t v4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return a << 24 | b << 16 | c << 8 | d;
}

bool unroutable_v4(uint32_t a) {
  static constexpr struct {
    uint32_t net;
    int prefix;
  } kRanges[] = {
      {v4(0, 0, 0, 0), 8},    {v4(10, 0, 0, 0), 8},     {v4(100, 64, 0, 0), 10},
      {v4(127, 0, 0, 0), 8},  {v4(169, 254, 0, 0), 16}, {v4(172, 16, 0, 0), 12},
      {v4(192, 0, 0, 0), 24}, {v4(192, 168, 0, 0), 16}, {v4(198, 18, 0, 0), 15},
      {v4(224, 0, 0, 0), 4},  {v4(240, 0, 0, 0), 4},
  };
  for (const auto& r : kRanges) {
    uint32_t mask = ~uint32_t{0} << (32 - r.prefix);
    if ((a & mask) == r.net) return true;
  }
  return false;
}

bool unroutable_v6(const in6_addr& a) {
  const uint8_t* b = a.s6_addr;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && b[15] <= 1) return true;  // :: and ::1
  if ((b[0] & 0xfe) == 0xfc) return true;                         // fc00::/7 ULA
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;         // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;         // fec0::/10 site-local
  if (b[0] == 0xff) return true;                                  // multicast
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    uint32_t v4;
    std::memcpy(&v4, b + 12, 4);
    return unroutable_v4(ntohl(v4));
  }
  return false;
}

// RFC 7871 §6: address bits past SOURCE PREFIX-LENGTH must be zero. Checked on the wire bytes:
// knot_edns_client_subnet_parse masks them away.
bool bits_past_prefix_zero(const uint8_t* address, size_t len, unsigned source_len) {
  for (size_t bit = source_len; bit < len * 8; ++bit)
    if (address[bit / 8] & (0x80 >> (bit % 8))) return false;
  return true;
}

}  // namespace

bool is_unroutable(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET)
    return unroutable_v4(ntohl(reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr.s_addr));
  if (addr.ss_family == AF_INET6)
    return unroutable_v6(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr);
  return true;
}

EcsRead read_client_subnet(const uint8_t* option) {
  EcsRead r;
  if (option == nullptr) return r;
  r.status = EcsStatus::Malformed;
  uint16_t len = knot_edns_opt_get_length(option);
  const uint8_t* data = option + KNOT_EDNS_OPTION_HDRLEN;
  if (knot_edns_client_subnet_parse(&r.wire, data, len) != KNOT_EOK) return r;
  size_t addr_bytes;
  if (r.wire.family == kFamilyIpv4) {
    addr_bytes = 4;
  } else if (r.wire.family == kFamilyIpv6) {
    addr_bytes = 16;
  } else {
    return r;
  }
  if (r.wire.source_len > addr_bytes * 8) return r;
  // The address field carries exactly the bytes the source prefix needs (RFC 7871 §6).
  if (len != 4 + (r.wire.source_len + 7) / 8) return r;
  if (!bits_past_prefix_zero(data + 4, len - 4, r.wire.source_len)) return r;
  if (r.wire.source_len == 0) {
    r.status = EcsStatus::SourceZero;
    return r;
  }
  ClientSubnet subnet;
  subnet.family = r.wire.family == kFamilyIpv4 ? AF_INET : AF_INET6;
  subnet.source_prefix = r.wire.source_len;
  if (knot_edns_client_subnet_get_addr(&subnet.address, &r.wire) != KNOT_EOK) return r;
  if (is_unroutable(subnet.address)) {
    r.status = EcsStatus::IgnoredPrivate;
    return r;
  }
  r.status = EcsStatus::Usable;
  r.subnet = subnet;
  return r;
}

}  // namespace cdn::geo::dns
