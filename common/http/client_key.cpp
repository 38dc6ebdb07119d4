#include "common/http/client_key.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace cdn::http {

namespace {

ClientKey masked(const uint8_t* addr, size_t len, uint8_t family, unsigned bits) {
  ClientKey k;
  k.family = family;
  std::memcpy(k.bytes.data(), addr, len);
  for (size_t i = 0; i < len; ++i) {
    unsigned first_bit = unsigned(i) * 8;
    if (first_bit >= bits) {
      k.bytes[i] = 0;
    } else if (bits - first_bit < 8) {
      k.bytes[i] &= uint8_t(0xFF00u >> (bits - first_bit));
    }
  }
  return k;
}

bool is_v4_mapped(const uint8_t* a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  return std::memcmp(a, kPrefix, sizeof kPrefix) == 0;
}

ClientKey from_v6(const uint8_t* a, ClientPrefixes p) {
  if (is_v4_mapped(a)) return masked(a + 12, 4, AF_INET, p.ipv4_bits);
  return masked(a, 16, AF_INET6, p.ipv6_bits);
}

uint64_t mix(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::optional<ClientKey> client_key(const sockaddr_storage& peer, ClientPrefixes prefixes) {
  if (peer.ss_family == AF_INET) {
    auto* a =
        reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr);
    return masked(a, 4, AF_INET, prefixes.ipv4_bits);
  }
  if (peer.ss_family == AF_INET6) {
    return from_v6(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr.s6_addr, prefixes);
  }
  return std::nullopt;
}

std::optional<ClientKey> client_key(std::string_view ip, ClientPrefixes prefixes) {
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string text(ip);
  uint8_t buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1)
    return masked(buf, 4, AF_INET, prefixes.ipv4_bits);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return from_v6(buf, prefixes);
  return std::nullopt;
}

size_t ClientKeyHash::operator()(const ClientKey& k) const {
  uint64_t hi, lo;
  std::memcpy(&hi, k.bytes.data(), 8);
  std::memcpy(&lo, k.bytes.data() + 8, 8);
  return size_t(mix(mix(hi ^ seed) ^ lo ^ (uint64_t(k.family) << 56)));
}

}  // namespace cdn::http
