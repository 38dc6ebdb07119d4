#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/util/result.h"

namespace cdn::net {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string str() const;
};

// Literal IPv4/IPv6 or "localhost"; upstream connects never do DNS on the event loop, so names
// are resolved once here, at config time.
Result<SockAddr> resolve_numeric(const std::string& host, uint16_t port);
// "ip:port" of a connected peer, without port for access logs.
std::string peer_ip(const sockaddr_storage& ss);

}  // namespace cdn::net
