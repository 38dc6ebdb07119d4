#pragma once
// Parsers for the unit-bearing scalars of config files: durations, byte sizes, host:port.
// Each returns a short message (without file:line, the reader adds it) on bad input.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/result.h"

namespace cdn::config {

// "250ms", "2s", "5m", "1h", "1d", or a plain integer meaning seconds. Never negative.
Result<int64_t> parse_duration_ms(std::string_view text);

// "512" (bytes), "64KiB", "256MiB", "2GiB", "1TiB" (powers of 1024), "1KB", "1MB", "1GB", "1TB"
// (powers of 1000), "100B". Units are case-insensitive.
Result<uint64_t> parse_size_bytes(std::string_view text);

struct HostPort {
  std::string host;  // without brackets, e.g. "::1"
  uint16_t port = 0;
  // "host:port", IPv6 hosts in brackets: "[::1]:443".
  std::string str() const;
  // A literal IPv4/IPv6 address (not a name).
  bool is_ip_literal() const;
  bool operator==(const HostPort&) const = default;
};

// "127.0.0.1:8080", "[::1]:443", "localhost:80". Port 1..65535. IPv6 needs brackets; names must be
// valid DNS names (letters, digits, '-', '.').
Result<HostPort> parse_host_port(std::string_view text);

}  // namespace cdn::config
