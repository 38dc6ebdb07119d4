#include "common/auth/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>

#include "common/util/strings.h"

namespace cdn::auth {
namespace {

struct Addr {
  std::array<unsigned char, 16> b{};
  int bits = 0;  // 32 or 128
};

std::optional<Addr> parse_addr(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  Addr a;
  if (inet_pton(AF_INET, s.c_str(), a.b.data()) == 1) {
    a.bits = 32;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.b.data()) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.b.data(), kMapped, 12) == 0) {
      std::memmove(a.b.data(), a.b.data() + 12, 4);
      std::memset(a.b.data() + 4, 0, 12);
      a.bits = 32;
    } else {
      a.bits = 128;
    }
    return a;
  }
  return std::nullopt;
}

struct Spec {
  Addr addr;
  int prefix = 0;
};

std::optional<Spec> parse_spec(std::string_view spec) {
  size_t slash = spec.find('/');
  auto addr = parse_addr(spec.substr(0, slash));
  if (!addr) return std::nullopt;
  Spec s{*addr, addr->bits};
  if (slash != std::string_view::npos) {
    auto n = parse_int(spec.substr(slash + 1));
    if (!n || *n < 0 || *n > addr->bits) return std::nullopt;
    s.prefix = static_cast<int>(*n);
  }
  return s;
}

}  // namespace

bool valid_address_spec(std::string_view spec) { return parse_spec(spec).has_value(); }

std::string address_place(std::string_view client_text, int prefix_v4, int prefix_v6) {
  auto a = parse_addr(client_text);
  if (!a) return std::string(client_text);
  int prefix = std::clamp(a->bits == 32 ? prefix_v4 : prefix_v6, 0, a->bits);
  for (int bit = prefix; bit < a->bits; ++bit) a->b[size_t(bit / 8)] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
  char text[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(a->bits == 32 ? AF_INET : AF_INET6, a->b.data(), text, sizeof text)) return std::string(client_text);
  return std::string(text) + "/" + std::to_string(prefix);
}

bool address_matches(std::string_view spec_text, std::string_view client_text) {
  auto spec = parse_spec(spec_text);
  auto client = parse_addr(client_text);
  if (!spec || !client || spec->addr.bits != client->bits) return false;
  int full = spec->prefix / 8, rest = spec->prefix % 8;
  if (std::memcmp(spec->addr.b.data(), client->b.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (spec->addr.b[full] & mask) == (client->b[full] & mask);
}

}  // namespace cdn::auth
