#include "common/http/host.h"

#include <gtest/gtest.h>

using cdn::http::host_of_authority;

namespace {

TEST(Host, ValidHostsGiveTheirHostPart) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"example.com", "example.com"},
      {"Example.COM:8080", "Example.COM"},
      {"127.0.0.1", "127.0.0.1"},
      {"127.0.0.1:80", "127.0.0.1"},
      {"[::1]", "[::1]"},
      {"[::1]:443", "[::1]"},
      {"[2001:db8::7]:8080", "[2001:db8::7]"},
      {"[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]"},
      {"a-b_c~d.e", "a-b_c~d.e"},
      {"sub!$&'()*+,;=delims", "sub!$&'()*+,;=delims"},
      {"pct%41enc", "pct%41enc"},
      {"h:", "h"},  // RFC 3986: port = *DIGIT, an empty port means the default
      {"h:65535", "h"},
      {"", ""},
  };
  for (auto [in, host] : cases) {
    auto got = host_of_authority(in);
    ASSERT_TRUE(got) << in;
    EXPECT_EQ(*got, host) << in;
  }
}

TEST(Host, InvalidHostsAreRefused) {
  const std::string_view cases[] = {
      "127.0.0.1/vod/premium",
      "h?x",
      "h#f",
      "user@h",
      "h h",
      "h\t",
      std::string_view("h\0x", 3),
      "h\x7f",
      "h\xc3\xa9",
      ":80",
      "h:123456",
      "h:8o",
      "h:80:81",
      "h:-1",
      "[::1",
      "[::1]x",
      "[g::1]",
      "[fe80::1%25eth0]",
      "[v1.x]",
      "[]",
      "::1",
      "pct%4",
      "pct%zz",
      "h\\x",
      "\"h\"",
      "<h>",
  };
  for (auto in : cases) EXPECT_FALSE(host_of_authority(in)) << in;
}

}  // namespace
