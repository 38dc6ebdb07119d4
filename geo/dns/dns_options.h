#pragma once
// What cdn-geo's config says about its DNS listeners (`geo.dns`), with the built-in defaults.
#include <cstddef>
#include <cstdint>

namespace cdn::geo {

struct DnsServerOptions {
  size_t max_tcp_connections = 1024;  // over all workers; more are closed at accept
  int64_t tcp_idle_ms = 10000;      // a TCP connection with no complete query for this long closes
  uint16_t udp_max_payload = 1232;  // our EDNS UDP payload size (the DNS Flag Day 2020 value)

  bool operator==(const DnsServerOptions&) const = default;
};

}  // namespace cdn::geo
