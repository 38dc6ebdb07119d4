#include "common/http/host.h"

#include <arpa/inet.h>

#include <string>

#include "common/http/uri_chars.h"

namespace cdn::http {

namespace {

bool is_reg_name(std::string_view h) {
  for (size_t i = 0; i < h.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(h[i]);
    if (c == '%') {
      if (i + 2 >= h.size() || hex_value(h[i + 1]) < 0 || hex_value(h[i + 2]) < 0) return false;
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c)) {
      return false;
    }
  }
  return true;
}

// inet_pton accepts exactly RFC 4291's text forms; zone ids and IPvFuture are refused.
bool is_ipv6_literal(std::string_view bracketed) {
  std::string inner(bracketed.substr(1, bracketed.size() - 2));
  in6_addr addr;
  return inner.size() <= INET6_ADDRSTRLEN && inet_pton(AF_INET6, inner.c_str(), &addr) == 1;
}

bool is_port(std::string_view p) {
  if (p.size() > 5) return false;
  for (char c : p)
    if (!is_digit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

std::optional<std::string_view> host_of_authority(std::string_view hostport) {
  std::string_view host = hostport;
  std::string_view rest;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = hostport.substr(0, close + 1);
    rest = hostport.substr(close + 1);
    if (!is_ipv6_literal(host)) return std::nullopt;
  } else {
    size_t colon = hostport.find(':');
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      rest = hostport.substr(colon);
    }
    if (!is_reg_name(host)) return std::nullopt;
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || host.empty() || !is_port(rest.substr(1))) return std::nullopt;
  }
  return host;
}

}  // namespace cdn::http
