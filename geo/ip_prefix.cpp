#include "geo/ip_prefix.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace cdn::geo {

namespace {

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void store_be64(uint64_t v, uint8_t* p) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = uint8_t(v);
}

uint64_t keep_top(uint64_t v, int n) {  // keeps the top n bits (0..64)
  if (n <= 0) return 0;
  if (n >= 64) return v;
  return v & ~(~0ull >> n);
}

}  // namespace

std::optional<IpAddr> ip_from_sockaddr(const sockaddr_storage& ss) {
  IpAddr a;
  if (ss.ss_family == AF_INET) {
    const auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
    a.family = AF_INET;
    a.hi = uint64_t(ntohl(s->sin_addr.s_addr)) << 32;
    return a;
  }
  if (ss.ss_family == AF_INET6) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
    const uint8_t* b = s->sin6_addr.s6_addr;
    a.family = AF_INET6;
    a.hi = load_be64(b);
    a.lo = load_be64(b + 8);
    return a;
  }
  return std::nullopt;
}

std::optional<IpAddr> parse_ip(std::string_view text) {
  std::string s(text);
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, s.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else if (inet_pton(AF_INET6, s.c_str(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) ==
             1) {
    ss.ss_family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return ip_from_sockaddr(ss);
}

IpAddr masked(const IpAddr& a, int prefix) {
  IpAddr m = a;
  m.hi = keep_top(a.hi, prefix);
  m.lo = keep_top(a.lo, prefix - 64);
  if (a.family == AF_INET) m.lo = 0;
  return m;
}

sockaddr_storage to_sockaddr(const IpAddr& a) {
  sockaddr_storage ss{};
  if (a.family == AF_INET) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(uint32_t(a.hi >> 32));
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    store_be64(a.hi, s->sin6_addr.s6_addr);
    store_be64(a.lo, s->sin6_addr.s6_addr + 8);
  }
  return ss;
}

std::string to_string(const IpAddr& a) {
  sockaddr_storage ss = to_sockaddr(a);
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

std::optional<IpPrefix> parse_prefix(std::string_view text, std::string* why) {
  size_t slash = text.find('/');
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) {
    if (why) *why = "not an IP address: \"" + std::string(text.substr(0, slash)) + "\"";
    return std::nullopt;
  }
  IpPrefix p{*addr, addr->bits()};
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), p.len);
    if (ec != std::errc() || end != len.data() + len.size() || len.empty() || p.len < 0 ||
        p.len > addr->bits()) {
      if (why) *why = "bad prefix length in \"" + std::string(text) + "\"";
      return std::nullopt;
    }
  }
  if (!(masked(*addr, p.len) == *addr)) {
    if (why) *why = "address bits past the prefix length in \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  return p;
}

}  // namespace cdn::geo
