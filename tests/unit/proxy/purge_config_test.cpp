// purge.upstream_admins as plain or https:// admin addresses, and purge.admin_client (the files
// that dial the https:// ones), with file:line errors.
#include "common/proxy/purge_config.h"

#include <gtest/gtest.h>

#include "common/config/reader.h"
#include "common/config/server_config.h"

namespace cdn::proxy {
namespace {

Result<config::ServerConfig> parse(const std::string& purge, PurgeConfig& pc) {
  std::string text =
      "tier: edge\n"
      "listen: [{address: 127.0.0.1:1}]\n"
      "upstream: {servers: [{address: 127.0.0.1:2}]}\n"
      "purge:\n" +
      purge;
  return config::parse_server_config(
      text, "t.yaml", [&](config::MapReader& root) { read_purge_section(root, pc); });
}

TEST(PurgeConfig, UpstreamAdminsMayBeHttps) {
  PurgeConfig pc;
  auto r = parse(
      "  upstream_admins: ['127.0.0.1:9091', 'http://127.0.0.2:9091', 'https://localhost:9443/']\n",
      pc);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(pc.upstream_admins.size(), 3u);
  EXPECT_FALSE(pc.upstream_admins[0].tls);
  EXPECT_FALSE(pc.upstream_admins[1].tls);
  EXPECT_EQ(pc.upstream_admins[1].address.str(), "127.0.0.2:9091");
  EXPECT_TRUE(pc.upstream_admins[2].tls);
  EXPECT_EQ(pc.upstream_admins[2].address.host, "localhost");
  EXPECT_TRUE(pc.admin_client.ca.empty());  // the system's store
}

TEST(PurgeConfig, ProblemsNameTheLine) {
  PurgeConfig pc;
  auto r = parse(
      "  upstream_admins: ['https://shield.example:9443', 'tcp://127.0.0.1:1']\n"
      "  admin_client:\n"
      "    cert: /nonexistent/client.pem\n"
      "    key: /nonexistent/client.key\n"
      "    extra: 1\n",
      pc);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("t.yaml:5: purge.upstream_admins: must be a literal IP address or localhost"),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find("t.yaml:5: purge.upstream_admins: expected http://host:port or https://host:port"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:7: purge.admin_client.cert"), std::string::npos) << m;
  EXPECT_NE(m.find("t.yaml:8: purge.admin_client.key"), std::string::npos) << m;
  EXPECT_NE(m.find("t.yaml:9: purge.admin_client.extra: unknown key"), std::string::npos) << m;
}

}  // namespace
}  // namespace cdn::proxy
