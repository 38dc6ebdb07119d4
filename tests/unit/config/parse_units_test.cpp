#include "common/config/parse_units.h"

#include <gtest/gtest.h>

namespace cdn::config {
namespace {

TEST(ParseDuration, Units) {
  struct Case {
    const char* in;
    int64_t ms;
  } cases[] = {{"250ms", 250}, {"2s", 2000},       {"5m", 300'000}, {"1h", 3'600'000},
               {"1d", 86'400'000}, {"30", 30'000}, {"0", 0},        {" 10s ", 10'000}};
  for (const auto& c : cases) {
    auto r = parse_duration_ms(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.ms) << c.in;
  }
}

TEST(ParseDuration, Rejects) {
  for (const char* in : {"", "2x", "-1s", "s", "1.5s", "10 sec", "1S", "99999999999999999999",
                         "9223372036854775807d", "0x10"}) {
    auto r = parse_duration_ms(in);
    EXPECT_FALSE(r.ok()) << in;
  }
  EXPECT_NE(parse_duration_ms("2x").error().message.find("invalid duration \"2x\""),
            std::string::npos);
}

TEST(ParseSize, Units) {
  struct Case {
    const char* in;
    uint64_t bytes;
  } cases[] = {{"512", 512},        {"100B", 100},           {"64KiB", 64 * 1024},
               {"256MiB", 256ull << 20}, {"2GiB", 2ull << 30}, {"1TiB", 1ull << 40},
               {"1KB", 1000},       {"1GB", 1'000'000'000},  {"1mib", 1 << 20},
               {"0", 0}};
  for (const auto& c : cases) {
    auto r = parse_size_bytes(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.bytes) << c.in;
  }
}

TEST(ParseSize, Rejects) {
  for (const char* in : {"", "KiB", "-1", "1.5GiB", "12XB", "1 GiBs", "99999999999TiB",
                         "18446744073709551616"}) {
    EXPECT_FALSE(parse_size_bytes(in).ok()) << in;
  }
}

TEST(ParseHostPort, Valid) {
  struct Case {
    const char* in;
    const char* host;
    uint16_t port;
    const char* str;
  } cases[] = {{"127.0.0.1:8080", "127.0.0.1", 8080, "127.0.0.1:8080"},
               {"[::1]:443", "::1", 443, "[::1]:443"},
               {"localhost:80", "localhost", 80, "localhost:80"},
               {"edge-1.example.com:65535", "edge-1.example.com", 65535,
                "edge-1.example.com:65535"}};
  for (const auto& c : cases) {
    auto r = parse_host_port(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().message;
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->port, c.port);
    EXPECT_EQ(r->str(), c.str);
  }
  EXPECT_TRUE(parse_host_port("[::1]:1")->is_ip_literal());
  EXPECT_TRUE(parse_host_port("10.0.0.1:1")->is_ip_literal());
  EXPECT_FALSE(parse_host_port("localhost:1")->is_ip_literal());
}

TEST(ParseHostPort, Rejects) {
  for (const char* in : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:0",
                         "127.0.0.1:-1", "127.0.0.1:80a", ":80", "::1:443", "[::1]443",
                         "[::1:443", "[nothost]:80", "bad_host:80", "999.1.1.1:80",
                         "-a.com:80", "a..b:80"}) {
    EXPECT_FALSE(parse_host_port(in).ok()) << in;
  }
  EXPECT_NE(parse_host_port("1.2.3.4:70000").error().message.find("1..65535"), std::string::npos);
}

}  // namespace
}  // namespace cdn::config
