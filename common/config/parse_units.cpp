#include "common/config/parse_units.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include "common/util/strings.h"

namespace cdn::config {
namespace {

struct NumberAndUnit {
  uint64_t number;
  std::string_view unit;
};

// Leading decimal digits (no sign) followed by an optional unit suffix.
std::optional<NumberAndUnit> split_number(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + digits, n);
  if (ec != std::errc() || p != s.data() + digits) return std::nullopt;  // overflow
  return NumberAndUnit{n, trim(s.substr(digits))};
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t limit) { return b != 0 && a > limit / b; }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool is_ipv4(const std::string& h) {
  in_addr a{};
  return inet_pton(AF_INET, h.c_str(), &a) == 1;
}
bool is_ipv6(const std::string& h) {
  in6_addr a{};
  return inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

bool is_dns_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (std::string_view label : split(h, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  // "999.1.1.1" is a bad IPv4 address, not a name: top-level labels are never all digits.
  std::string_view last = h.substr(h.rfind('.') + 1);
  return last.find_first_not_of("0123456789") != std::string_view::npos;
}

}  // namespace

Result<int64_t> parse_duration_ms(std::string_view text) {
  std::string_view s = trim(text);
  auto bad = [&] {
    return make_error("invalid duration " + quoted(s) +
                      " (expected e.g. 250ms, 2s, 5m, 1h, 1d or plain seconds)");
  };
  auto nu = split_number(s);
  if (!nu) return bad();
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 6> kUnits{{
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  for (const auto& [unit, mult] : kUnits) {
    if (nu->unit != unit) continue;
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (mul_overflows(nu->number, mult, kMax)) return make_error("duration " + quoted(s) + " is too large");
    return static_cast<int64_t>(nu->number * mult);
  }
  return bad();
}

Result<uint64_t> parse_size_bytes(std::string_view text) {
  std::string_view s = trim(text);
  auto nu = split_number(s);
  if (!nu)
    return make_error("invalid size " + quoted(s) + " (expected e.g. 512, 64KiB, 256MiB, 2GiB, 1GB)");
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 10> kUnits{{
      {"", 1}, {"b", 1},
      {"kb", 1000ull}, {"mb", 1000ull * 1000}, {"gb", 1000ull * 1000 * 1000},
      {"tb", 1000ull * 1000 * 1000 * 1000},
      {"kib", 1ull << 10}, {"mib", 1ull << 20}, {"gib", 1ull << 30}, {"tib", 1ull << 40}}};
  const std::string unit = to_lower(nu->unit);
  for (const auto& [name, mult] : kUnits) {
    if (unit != name) continue;
    if (mul_overflows(nu->number, mult, std::numeric_limits<uint64_t>::max()))
      return make_error("size " + quoted(s) + " is too large");
    return nu->number * mult;
  }
  return make_error("invalid size unit in " + quoted(s) +
                    " (use B, KiB, MiB, GiB, TiB or KB, MB, GB, TB)");
}

std::string HostPort::str() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

bool HostPort::is_ip_literal() const { return is_ipv4(host) || is_ipv6(host); }

Result<HostPort> parse_host_port(std::string_view text) {
  std::string_view s = trim(text);
  auto bad = [&](std::string_view why) {
    return make_error("invalid address " + quoted(s) + ": " + std::string(why) +
                      " (expected host:port, e.g. 127.0.0.1:8080 or [::1]:443)");
  };
  HostPort hp;
  std::string_view port_text;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    hp.host = std::string(s.substr(1, close - 1));
    if (!is_ipv6(hp.host)) return bad("not an IPv6 address inside brackets");
    if (close + 1 >= s.size() || s[close + 1] != ':') return bad("missing port");
    port_text = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    hp.host = std::string(s.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return bad("IPv6 addresses need brackets");
    if (hp.host.empty()) return bad("missing host");
    if (!is_ipv4(hp.host) && !is_dns_name(hp.host)) return bad("bad host name");
    port_text = s.substr(colon + 1);
  }
  bool all_digits = !port_text.empty() && port_text.size() <= 5;
  for (char c : port_text) all_digits = all_digits && c >= '0' && c <= '9';
  if (!all_digits) return bad("port must be a number 1..65535");
  auto port = parse_int(port_text);
  if (!port || *port < 1 || *port > 65535) return bad("port must be a number 1..65535");
  hp.port = static_cast<uint16_t>(*port);
  return hp;
}

}  // namespace cdn::config
