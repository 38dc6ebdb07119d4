#pragma once
// Which "client" a peer address belongs to for per-client limits: IPv4 addresses cut to a prefix
// (default the full /32), IPv6 to a prefix (default /64, what one subscriber usually gets), and
// IPv4-mapped IPv6 peers (dual-stack listeners) treated as the IPv4 address they carry.
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cdn::http {

struct ClientPrefixes {
  uint8_t ipv4_bits = 32;
  uint8_t ipv6_bits = 64;
};

struct ClientKey {
  std::array<uint8_t, 16> bytes{};  // the address with every bit past the prefix cleared
  uint8_t family = 0;               // AF_INET or AF_INET6
  bool operator==(const ClientKey&) const = default;
};

// nullopt for anything that is not an IP peer (such peers are not limited).
std::optional<ClientKey> client_key(const sockaddr_storage& peer, ClientPrefixes prefixes);
std::optional<ClientKey> client_key(std::string_view ip, ClientPrefixes prefixes);

// Seeded so that a client cannot choose addresses that pile into one hash bucket.
struct ClientKeyHash {
  uint64_t seed = 0;
  size_t operator()(const ClientKey& k) const;
};

}  // namespace cdn::http
