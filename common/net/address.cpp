#include "common/net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace cdn::net {

Result<SockAddr> resolve_numeric(const std::string& host_in, uint16_t port) {
  std::string host = host_in == "localhost" ? "127.0.0.1" : host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof(sockaddr_in);
    return a;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return make_error("not a literal IP address: " + host_in);
}

std::string peer_ip(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

std::string SockAddr::str() const {
  uint16_t port = 0;
  if (storage.ss_family == AF_INET) port = ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (storage.ss_family == AF_INET6) port = ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  std::string ip = peer_ip(storage);
  if (storage.ss_family == AF_INET6) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(port);
}

}  // namespace cdn::net
