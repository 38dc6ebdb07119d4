// cdn-geo polling admin listeners over TLS: https:// admin addresses and the geo-level
// admin_client, checked at --check-config with file:line (files that do not load as a client
// context included), and the TLS context built only when some admin address needs it.
#include <gtest/gtest.h>

#include <fstream>

#include "geo/geo_config.h"
#include "geo/health_poller.h"
#include "geo_fixture.h"

namespace cdn::geo {
namespace {

using test::parse_config;

TEST(GeoAdminTls, HttpsAdminAddressesAreMarkedTls) {
  GeoConfig g;
  auto r = parse_config(
      "  edges:\n"
      "    - {name: fra-1, site: fra, ipv4: [127.0.0.2], admin: 'https://127.0.0.1:9443'}\n"
      "    - {name: fra-2, site: fra, ipv4: [127.0.0.3], admin: 'http://127.0.0.1:9090'}\n"
      "  origins: [{name: o1, admin: 'https://127.0.0.5:9444/'}]\n",
      g);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(g.edges[0].admin_tls);
  EXPECT_EQ(g.edges[0].admin.str(), "127.0.0.1:9443");
  EXPECT_FALSE(g.edges[1].admin_tls);
  EXPECT_TRUE(g.origins[0].admin_tls);
  // https:// with no admin_client: the system's CA store verifies, no client certificate.
  auto tls = admin_client_tls(g);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  EXPECT_NE(tls.value(), nullptr);
}

TEST(GeoAdminTls, NoContextWithoutAnHttpsAdmin) {
  GeoConfig g;
  ASSERT_TRUE(
      parse_config(
          "  edges: [{name: fra-1, site: fra, ipv4: [127.0.0.2], admin: 'http://127.0.0.1:1'}]\n",
          g)
          .ok());
  auto tls = admin_client_tls(g);
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(tls.value(), nullptr);
}

TEST(GeoAdminTls, AdminClientProblemsNameTheLine) {
  auto dir = test::temp_dir();
  test::write_file(dir / "not-pem.pem", "not a certificate\n");
  GeoConfig g;
  auto r = parse_config(
      "  edges: [{name: fra-1, site: fra, ipv4: [127.0.0.2], admin: 'https://127.0.0.1:1'}]\n"
      "  admin_client:\n"
      "    ca: " +
          (dir / "not-pem.pem").string() +
          "\n"
          "  origins:\n"
          "    - {name: o1, admin: 'https://origin.test:9443'}\n"
          "    - {name: o2, admin: 'tcp://127.0.0.1:9443'}\n",
      g);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("t.yaml:9: geo.admin_client: " + (dir / "not-pem.pem").string() +
                   ": cannot load CA certificates"),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find("t.yaml:11: geo.origins[0].admin: expected http://<ip>:<port> or https://<ip>:<port>"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("t.yaml:12: geo.origins[1].admin"), std::string::npos) << m;

  GeoConfig half;
  auto h = parse_config(
      "  edges: [{name: fra-1, site: fra, ipv4: [127.0.0.2], admin: 'https://127.0.0.1:1'}]\n"
      "  admin_client: {cert: " +
          (dir / "not-pem.pem").string() + "}\n",
      half);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(
      h.error().message.find("geo.admin_client.cert: a client certificate needs its private key"),
      std::string::npos)
      << h.error().message;
}

}  // namespace
}  // namespace cdn::geo
