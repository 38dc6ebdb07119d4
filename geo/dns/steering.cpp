#include "geo/dns/steering.h"

#include <arpa/inet.h>

namespace cdn::geo {

std::optional<WireAddress> wire_address(const std::string& text, int family) {
  WireAddress a;
  if (inet_pton(family, text.c_str(), a.bytes.data()) != 1) return std::nullopt;
  a.len = family == AF_INET ? 4 : 16;
  return a;
}

std::vector<WireAddress> wire_addresses(const std::vector<std::string>& texts, int family) {
  std::vector<WireAddress> out;
  for (const auto& t : texts)
    if (auto a = wire_address(t, family)) out.push_back(*a);
  return out;
}

}  // namespace cdn::geo
