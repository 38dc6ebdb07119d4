// The admin address every admin client writes (cdn-geo's polls, cdnctl, purge forwarding): http://
// or https://, host:port alone only where plain HTTP was always meant.
#include "common/config/client_tls.h"

#include <gtest/gtest.h>

namespace cdn::config {
namespace {

TEST(AdminUrl, SchemeSaysWhetherTls) {
  auto plain = parse_admin_url("http://127.0.0.1:9090", false);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->address.str(), "127.0.0.1:9090");
  auto tls = parse_admin_url("https://[::1]:9443/", false);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->address.host, "::1");
  EXPECT_EQ(tls->address.port, 9443);
  EXPECT_EQ(tls->str(), "https://[::1]:9443");
}

TEST(AdminUrl, BareHostPortIsPlainOnlyWhereAllowed) {
  auto bare = parse_admin_url("localhost:9091", true);
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_FALSE(bare->tls);
  EXPECT_EQ(bare->address.host, "localhost");
  auto refused = parse_admin_url("127.0.0.1:9091", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("expected http://host:port or https://host:port"),
            std::string::npos)
      << refused.error().message;
}

TEST(AdminUrl, OtherSchemesAndBadAddressesAreRefused) {
  for (const char* bad : {"ftp://127.0.0.1:21", "https://127.0.0.1", "https://127.0.0.1:0",
                          "http://", "https://a b:1"}) {
    auto r = parse_admin_url(bad, true);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
    }
  }
}

}  // namespace
}  // namespace cdn::config
