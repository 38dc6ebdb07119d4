#include "common/config/server_config.h"

#include <gtest/gtest.h>

#include "common/config/reader.h"
#include "tests/unit/config/test_util.h"

namespace cdn::config {
namespace {

using testing::lines;
using testing::TempDir;
using testing::with_dir;

class ServerConfigTest : public ::testing::Test {
 protected:
  Result<ServerConfig> parse(const std::string& yaml) {
    return parse_server_config(with_dir(yaml, dir_.path()), "t.yaml");
  }
  TempDir dir_;
};

TEST_F(ServerConfigTest, UpstreamOverTls) {
  auto r = parse(R"(
tier: shield
listen: [{address: 127.0.0.1:8443, tls: true}]
tls:
  certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]
  client_ca: @DIR@/cert.pem
admin:
  listen: 127.0.0.1:9443
  tls: {cert: @DIR@/cert.pem, key: @DIR@/key.pem, client_ca: @DIR@/cert.pem}
upstream:
  tls: {ca: @DIR@/cert.pem, cert: @DIR@/cert.pem, key: @DIR@/key.pem}
  servers:
    - address: 127.0.0.1:8081
    - address: https://[::1]:8082
      server_name: origin-2.example
      backup: true
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& u = *r->upstream;
  ASSERT_EQ(u.servers.size(), 2u);
  EXPECT_TRUE(u.servers[0].tls);  // the tls section makes every server TLS
  EXPECT_EQ(u.servers[0].server_name, "127.0.0.1");
  EXPECT_TRUE(u.servers[1].tls);
  EXPECT_EQ(u.servers[1].address.str(), "[::1]:8082");
  EXPECT_EQ(u.servers[1].server_name, "origin-2.example");
  EXPECT_EQ(u.tls.ca, dir_.path() + "/cert.pem");
  EXPECT_EQ(u.tls.key, dir_.path() + "/key.pem");
  EXPECT_EQ(r->tls->client_ca, dir_.path() + "/cert.pem");
  ASSERT_TRUE(r->admin.tls.has_value());
  EXPECT_EQ(r->admin.tls->client_ca, dir_.path() + "/cert.pem");
}

TEST_F(ServerConfigTest, HttpsAddressAloneUsesTheSystemStore) {
  auto r = parse("tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers:\n"
                 "    - address: https://localhost:8443\n    - address: http://127.0.0.1:8081\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->upstream->servers[0].tls);
  EXPECT_EQ(r->upstream->servers[0].server_name, "localhost");
  EXPECT_FALSE(r->upstream->servers[1].tls);
  EXPECT_TRUE(r->upstream->tls.ca.empty());
  EXPECT_FALSE(r->admin.tls.has_value());
}

TEST_F(ServerConfigTest, FullExample) {
  auto r = parse(R"(
tier: edge
node_name: edge-1
workers: 2
listen:
  - address: 127.0.0.1:8443
    tls: true
  - address: "[::1]:8080"
admin:
  listen: 127.0.0.1:9191
  token: "secret"
tls:
  certificates:
    - cert: @DIR@/cert.pem
      key: @DIR@/key.pem
  session_tickets: false
  tickets_per_handshake: 3
  session_cache_size: 100
timeouts:
  header_read: 5s
  keepalive_idle: 1m
  send_stall: 20s
  upstream_connect: 500ms
  upstream_first_byte: 3s
  upstream_idle: 45s
  drain: 1h
  drain_grace: 40s
limits:
  max_url_bytes: 4096
  max_header_bytes: 32KiB
  max_headers: 50
  max_connections: 1000
  max_body_bytes: 2MiB
  max_field_bytes: 4KiB
  escaped_slashes: keep
cache:
  memory: 1GiB
  memory_shards: 32
  disk_path: /var/lib/cdn
  disk_max: 10GiB
  max_object_size: 2GiB
  ignore_query_params: [utm_source, utm_medium]
  token_param: t
  default_ttls:
    - match: "*.m3u8"
      ttl: 2s
    - match: "*.ts"
      ttl: 1d
  negative_ttl: 5s
  stale_while_revalidate: 1s
  stale_if_error: 2m
upstream:
  policy: rendezvous
  servers:
    - address: 127.0.0.1:8081
    - address: localhost:8082
      backup: false
  max_fails: 5
  fail_timeout: 20s
  retries: 2
access_log: /tmp/access.log
log_level: debug
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ServerConfig& c = *r;
  EXPECT_EQ(c.tier, Tier::Edge);
  EXPECT_EQ(c.node_name, "edge-1");
  EXPECT_EQ(c.workers, 2u);
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].address.str(), "127.0.0.1:8443");
  EXPECT_TRUE(c.listen[0].tls);
  EXPECT_EQ(c.listen[1].address.str(), "[::1]:8080");
  EXPECT_FALSE(c.listen[1].tls);
  EXPECT_EQ(c.admin.listen.str(), "127.0.0.1:9191");
  EXPECT_EQ(c.admin.token, "secret");
  ASSERT_TRUE(c.tls);
  ASSERT_EQ(c.tls->certificates.size(), 1u);
  EXPECT_EQ(c.tls->certificates[0].cert, dir_.path() + "/cert.pem");
  EXPECT_EQ(c.tls->certificates[0].key, dir_.path() + "/key.pem");
  EXPECT_FALSE(c.tls->session_tickets);
  EXPECT_EQ(c.tls->tickets_per_handshake, 3u);
  EXPECT_EQ(c.tls->session_cache_size, 100u);
  EXPECT_EQ(c.timeouts.header_read_ms, 5000);
  EXPECT_EQ(c.timeouts.keepalive_idle_ms, 60000);
  EXPECT_EQ(c.timeouts.send_stall_ms, 20000);
  EXPECT_EQ(c.timeouts.upstream_connect_ms, 500);
  EXPECT_EQ(c.timeouts.upstream_first_byte_ms, 3000);
  EXPECT_EQ(c.timeouts.upstream_idle_ms, 45000);
  EXPECT_EQ(c.timeouts.drain_ms, 3'600'000);
  EXPECT_EQ(c.timeouts.drain_grace_ms, 40'000);
  EXPECT_EQ(c.limits.max_url_bytes, 4096u);
  EXPECT_EQ(c.limits.max_header_bytes, 32768u);
  EXPECT_EQ(c.limits.max_headers, 50u);
  EXPECT_EQ(c.limits.max_connections, 1000u);
  EXPECT_EQ(c.limits.max_body_bytes, 2u << 20);
  EXPECT_EQ(c.limits.max_field_bytes, 4096u);
  EXPECT_TRUE(c.limits.keep_escaped_slashes);
  EXPECT_EQ(c.cache.memory_bytes, 1ull << 30);
  EXPECT_EQ(c.cache.memory_shards, 32u);
  EXPECT_EQ(c.cache.disk_path, "/var/lib/cdn");
  EXPECT_EQ(c.cache.disk_max_bytes, 10ull << 30);
  EXPECT_EQ(c.cache.max_object_size, 2ull << 30);
  EXPECT_EQ(c.cache.ignore_query_params, (std::vector<std::string>{"utm_source", "utm_medium"}));
  EXPECT_EQ(c.cache.token_param, "t");
  ASSERT_EQ(c.cache.default_ttls.size(), 2u);
  EXPECT_EQ(c.cache.default_ttls[0].match, "*.m3u8");
  EXPECT_EQ(c.cache.default_ttls[0].ttl_ms, 2000);
  EXPECT_EQ(c.cache.default_ttls[1].ttl_ms, 86'400'000);
  EXPECT_EQ(c.cache.negative_ttl_ms, 5000);
  EXPECT_EQ(c.cache.stale_while_revalidate_ms, 1000);
  EXPECT_EQ(c.cache.stale_if_error_ms, 120'000);
  ASSERT_TRUE(c.upstream);
  EXPECT_EQ(c.upstream->policy, UpstreamPolicy::Rendezvous);
  ASSERT_EQ(c.upstream->servers.size(), 2u);
  EXPECT_EQ(c.upstream->servers[1].address.str(), "localhost:8082");
  EXPECT_EQ(c.upstream->max_fails, 5u);
  EXPECT_EQ(c.upstream->fail_timeout_ms, 20000);
  EXPECT_EQ(c.upstream->retries, 2u);
  EXPECT_FALSE(c.origin);
  EXPECT_EQ(c.access_log, "/tmp/access.log");
  EXPECT_EQ(c.log_level, LogLevel::Debug);
}

TEST_F(ServerConfigTest, DefaultsForMinimalEdge) {
  auto r = parse("tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ServerConfig& c = *r;
  EXPECT_FALSE(c.node_name.empty());
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.admin.listen.str(), "127.0.0.1:9090");
  EXPECT_EQ(c.admin.token, "");
  EXPECT_FALSE(c.tls);
  EXPECT_EQ(c.timeouts.header_read_ms, 10'000);
  EXPECT_EQ(c.timeouts.keepalive_idle_ms, 60'000);
  EXPECT_EQ(c.timeouts.send_stall_ms, 30'000);
  EXPECT_EQ(c.timeouts.upstream_connect_ms, 2'000);
  EXPECT_EQ(c.timeouts.upstream_first_byte_ms, 10'000);
  EXPECT_EQ(c.timeouts.upstream_idle_ms, 30'000);
  EXPECT_EQ(c.timeouts.drain_ms, 30'000);
  EXPECT_EQ(c.timeouts.drain_grace_ms, 0);
  EXPECT_EQ(c.limits.max_url_bytes, 8192u);
  EXPECT_EQ(c.limits.max_header_bytes, 16384u);
  EXPECT_EQ(c.limits.max_headers, 100u);
  EXPECT_EQ(c.limits.max_connections, 20000u);
  EXPECT_EQ(c.limits.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.limits.max_field_bytes, 8192u);
  EXPECT_FALSE(c.limits.keep_escaped_slashes);
  EXPECT_EQ(c.cache.memory_bytes, 256u << 20);
  EXPECT_EQ(c.cache.memory_shards, 16u);
  EXPECT_EQ(c.cache.disk_path, "");
  EXPECT_EQ(c.cache.disk_max_bytes, 0u);
  EXPECT_EQ(c.cache.max_object_size, 1ull << 30);
  EXPECT_TRUE(c.cache.ignore_query_params.empty());
  EXPECT_EQ(c.cache.token_param, "token");
  EXPECT_TRUE(c.cache.default_ttls.empty());
  EXPECT_EQ(c.cache.negative_ttl_ms, 10'000);
  EXPECT_EQ(c.cache.stale_while_revalidate_ms, 0);
  EXPECT_EQ(c.cache.stale_if_error_ms, 60'000);
  ASSERT_TRUE(c.upstream);
  EXPECT_EQ(c.upstream->policy, UpstreamPolicy::Rendezvous);
  EXPECT_FALSE(c.upstream->servers[0].backup);
  EXPECT_EQ(c.upstream->max_fails, 3u);
  EXPECT_EQ(c.upstream->fail_timeout_ms, 10'000);
  EXPECT_EQ(c.upstream->retries, 1u);
  EXPECT_EQ(c.access_log, "-");
  EXPECT_EQ(c.log_level, LogLevel::Info);
}

TEST_F(ServerConfigTest, ShieldDefaultsToFailoverWithBackups) {
  auto r = parse(R"(tier: shield
listen: [{address: 0.0.0.0:8081}]
upstream:
  servers:
    - address: 10.0.0.1:8082
    - address: 10.0.0.2:8082
      backup: true
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tier, Tier::Shield);
  EXPECT_EQ(r->upstream->policy, UpstreamPolicy::Failover);
  EXPECT_TRUE(r->upstream->servers[1].backup);
}

TEST_F(ServerConfigTest, Origin) {
  auto r = parse(R"(tier: origin
listen: [{address: 127.0.0.1:8082}]
origin:
  root: @DIR@/vod
  playlist_max_age: 1s
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tier, Tier::Origin);
  EXPECT_FALSE(r->upstream);
  ASSERT_TRUE(r->origin);
  EXPECT_EQ(r->origin->root, dir_.path() + "/vod");
  EXPECT_EQ(r->origin->playlist_max_age_ms, 1000);
  EXPECT_EQ(r->origin->segment_max_age_ms, 86'400'000);
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* prefix;  // "t.yaml:LINE: path"
  const char* phrase;
  size_t errors = 1;
};

// Line 1..3 of most cases: a valid edge head; the interesting line follows.
#define EDGE_HEAD "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n"

const BadCase kBadCases[] = {
    {"unknown nested key", EDGE_HEAD "cache: {memroy: 1GiB}\n", "t.yaml:4: cache.memroy",
     "unknown key (did you mean \"memory\"?)"},
    {"unknown top-level key", EDGE_HEAD "\nworkerz: 2\n", "t.yaml:5: workerz", "unknown key"},
    {"bad ttl", EDGE_HEAD "cache:\n  default_ttls:\n    - match: '*.m3u8'\n      ttl: 2x\n",
     "t.yaml:7: cache.default_ttls[0].ttl", "invalid duration \"2x\""},
    {"port out of range", "tier: edge\nlisten:\n  - address: 127.0.0.1:70000\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n",
     "t.yaml:3: listen[0].address", "port must be a number 1..65535"},
    {"negative workers", EDGE_HEAD "workers: -1\n", "t.yaml:4: workers", "out of range 0..256"},
    {"workers wrong type", EDGE_HEAD "workers: [1]\n", "t.yaml:4: workers", "expected an integer, got a list"},
    {"tls listener without tls", "tier: edge\nlisten:\n  - address: 127.0.0.1:8443\n    tls: true\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n",
     "t.yaml:3: listen", "has tls: true but there is no tls section"},
    {"cert file missing", EDGE_HEAD "tls:\n  certificates:\n    - cert: @DIR@/nope.pem\n      key: @DIR@/key.pem\n",
     "t.yaml:6: tls.certificates[0].cert", "No such file or directory"},
    {"key is a directory", EDGE_HEAD "tls:\n  certificates:\n    - cert: @DIR@/cert.pem\n      key: @DIR@\n",
     "t.yaml:7: tls.certificates[0].key", "is not a regular file"},
    {"tls without certificates", EDGE_HEAD "tls: {session_tickets: true}\n", "t.yaml:4: tls.certificates",
     "required key is missing"},
    {"upstream on origin", "tier: origin\nlisten: [{address: 127.0.0.1:8080}]\norigin: {root: @DIR@/vod}\nupstream:\n  servers: [{address: 127.0.0.1:1}]\n",
     "t.yaml:5: upstream", "not allowed for tier origin"},
    {"origin on edge", EDGE_HEAD "origin: {root: @DIR@/vod}\n", "t.yaml:4: origin", "only allowed for tier origin"},
    {"origin without origin section", "tier: origin\nlisten: [{address: 127.0.0.1:8080}]\n", "t.yaml:1: config",
     "origin section is required for tier origin"},
    {"origin root missing", "tier: origin\nlisten: [{address: 127.0.0.1:8080}]\norigin:\n  root: @DIR@/none\n",
     "t.yaml:4: origin.root", "No such file or directory"},
    {"origin root is a file", "tier: origin\nlisten: [{address: 127.0.0.1:8080}]\norigin:\n  root: @DIR@/cert.pem\n",
     "t.yaml:4: origin.root", "is not a directory"},
    {"edge without upstream", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\n", "t.yaml:1: config",
     "upstream section is required for tier edge"},
    {"backup with rendezvous", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers:\n    - address: 127.0.0.1:8081\n    - address: 127.0.0.1:8082\n      backup: true\n",
     "t.yaml:7: upstream.servers[1].backup", "backup servers need policy: failover"},
    {"only backups", "tier: shield\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers:\n    - {address: 127.0.0.1:8081, backup: true}\n",
     "t.yaml:5: upstream.servers", "at least one server that is not a backup"},
    {"empty servers", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers: []\n",
     "t.yaml:4: upstream.servers", "needs at least one entry"},
    {"upstream host name", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers:\n    - address: example.com:80\n",
     "t.yaml:5: upstream.servers[0].address", "literal IP address or localhost"},
    {"bad policy", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  policy: random\n  servers: [{address: 127.0.0.1:1}]\n",
     "t.yaml:4: upstream.policy", "expected one of rendezvous | failover, got \"random\""},
    {"duplicate listen", "tier: edge\nlisten:\n  - address: 127.0.0.1:8080\n  - address: 127.0.0.1:8080\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n",
     "t.yaml:4: listen[1].address", "duplicate listen address 127.0.0.1:8080"},
    {"admin on a listen address", EDGE_HEAD "admin: {listen: 127.0.0.1:8080}\n", "t.yaml:4: admin",
     "also a listen address"},
    {"no listeners", "tier: edge\nlisten: []\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n",
     "t.yaml:2: listen", "needs at least one entry"},
    {"listen missing", "tier: edge\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n", "t.yaml:1: listen",
     "required key is missing"},
    {"listener without address", "tier: edge\nlisten:\n  - tls: false\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n",
     "t.yaml:3: listen[0].address", "required key is missing"},
    {"geo with upstream", "tier: geo\nlisten: [{address: 127.0.0.1:8080}]\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n",
     "t.yaml:3: upstream", "not allowed for tier geo"},
    {"tier missing", "listen: [{address: 127.0.0.1:8080}]\n", "t.yaml:1: tier", "required key is missing"},
    {"tier unknown", "tier: mid\nlisten: [{address: 127.0.0.1:8080}]\n", "t.yaml:1: tier",
     "expected one of edge | shield | origin | geo, got \"mid\""},
    {"url limit out of range", EDGE_HEAD "limits:\n  max_url_bytes: 10\n", "t.yaml:5: limits.max_url_bytes",
     "out of range 64..65536"},
    {"field cap above head limit", EDGE_HEAD "limits:\n  max_url_bytes: 1024\n  max_header_bytes: 4096\n  max_field_bytes: 8192\n",
     "t.yaml:7: limits.max_field_bytes", "must not exceed max_header_bytes (4096)"},
    {"bad escaped_slashes", EDGE_HEAD "limits:\n  escaped_slashes: decode\n", "t.yaml:5: limits.escaped_slashes",
     "expected one of refuse | keep"},
    {"shards not power of two", EDGE_HEAD "cache: {memory_shards: 3}\n", "t.yaml:4: cache.memory_shards",
     "power of two"},
    {"bad size", EDGE_HEAD "cache:\n  memory: 12XB\n", "t.yaml:5: cache.memory", "invalid size unit"},
    {"bad bool", EDGE_HEAD "tls:\n  certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]\n  session_tickets: maybe\n",
     "t.yaml:6: tls.session_tickets", "expected true or false"},
    {"too many tickets", EDGE_HEAD "tls:\n  certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]\n  tickets_per_handshake: 9\n",
     "t.yaml:6: tls.tickets_per_handshake", "value 9 is out of range 0..8"},
    {"unknown TLS 1.3 suite", EDGE_HEAD "tls:\n  certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]\n  ciphersuites: TLS_AES_999\n",
     "t.yaml:6: tls.ciphersuites", "not a TLS 1.3 cipher suite list OpenSSL accepts"},
    {"unknown TLS 1.2 cipher", EDGE_HEAD "tls:\n  certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]\n  ciphers: NOPE-CIPHER\n",
     "t.yaml:6: tls.ciphers", "not a TLS 1.2 cipher list OpenSSL accepts"},
    {"bad log level", EDGE_HEAD "log_level: verbose\n", "t.yaml:4: log_level", "expected one of debug | info | warn | error"},
    {"duplicate key", EDGE_HEAD "workers: 1\nworkers: 2\n", "t.yaml:5: workers", "duplicate key"},
    {"section is a scalar", EDGE_HEAD "timeouts: 5s\n", "t.yaml:4: timeouts", "expected a map, got a scalar"},
    {"syntax error", EDGE_HEAD "cache: {memory: 1GiB\n", "t.yaml:", "YAML syntax error"},
    {"upstream tls ca missing", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers: [{address: 127.0.0.1:8081}]\n  tls:\n    ca: @DIR@/none.pem\n",
     "t.yaml:6: upstream.tls.ca", "No such file or directory"},
    {"upstream tls key without cert", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers: [{address: 127.0.0.1:8081}]\n  tls:\n    key: @DIR@/key.pem\n",
     "t.yaml:6: upstream.tls.key", "a client key needs its certificate (cert)"},
    {"upstream tls cert without key", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers: [{address: 127.0.0.1:8081}]\n  tls:\n    cert: @DIR@/cert.pem\n",
     "t.yaml:6: upstream.tls.cert", "a client certificate needs its private key (key)"},
    {"upstream http under tls", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  tls: {ca: @DIR@/cert.pem}\n  servers:\n    - address: http://127.0.0.1:8081\n",
     "t.yaml:6: upstream.servers[0].address", "http:// server under an upstream with a tls section"},
    {"server_name on a plain upstream", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers:\n    - address: 127.0.0.1:8081\n      server_name: shield.test\n",
     "t.yaml:6: upstream.servers[0].server_name", "only for TLS servers"},
    {"https address without port", "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream:\n  servers:\n    - address: https://127.0.0.1\n",
     "t.yaml:5: upstream.servers[0].address", "host:port"},
    {"client_ca missing", EDGE_HEAD "tls:\n  certificates: [{cert: @DIR@/cert.pem, key: @DIR@/key.pem}]\n  client_ca: @DIR@/none.pem\n",
     "t.yaml:6: tls.client_ca", "No such file or directory"},
    {"admin tls without key", EDGE_HEAD "admin:\n  tls:\n    cert: @DIR@/cert.pem\n", "t.yaml:6: admin.tls.key",
     "required key is missing"},
    {"admin client_ca missing", EDGE_HEAD "admin:\n  tls:\n    cert: @DIR@/cert.pem\n    key: @DIR@/key.pem\n    client_ca: @DIR@/none.pem\n",
     "t.yaml:8: admin.tls.client_ca", "No such file or directory"},
    {"empty file", "", "t.yaml: empty config", ""},
    {"top-level list", "- tier: edge\n", "t.yaml:1: top level must be a map", ""},
    {"timeout null", EDGE_HEAD "timeouts:\n  drain:\n", "t.yaml:5: timeouts.drain", "has no value"},
    {"negative drain grace", EDGE_HEAD "timeouts:\n  drain_grace: -1s\n", "t.yaml:5: timeouts.drain_grace", ""},
};

TEST_F(ServerConfigTest, InvalidConfigsNameFileLineAndProblem) {
  for (const BadCase& c : kBadCases) {
    SCOPED_TRACE(c.name);
    auto r = parse(c.yaml);
    ASSERT_FALSE(r.ok());
    auto errs = lines(r.error().message);
    EXPECT_EQ(errs.size(), c.errors) << r.error().message;
    bool found = false;
    for (const auto& e : errs)
      found = found || (e.rfind(c.prefix, 0) == 0 && e.find(c.phrase) != std::string::npos);
    EXPECT_TRUE(found) << "want " << c.prefix << " ... " << c.phrase << "\ngot:\n"
                       << r.error().message;
  }
}

TEST_F(ServerConfigTest, ReportsEveryProblemAtOnce) {
  auto r = parse(R"(tier: edge
workers: 1000
listen:
  - address: nope
cache:
  memroy: 1GiB
  negative_ttl: 1y
upstream:
  servers: []
)");
  ASSERT_FALSE(r.ok());
  auto errs = lines(r.error().message);
  ASSERT_EQ(errs.size(), 5u) << r.error().message;
  EXPECT_EQ(errs[0].rfind("t.yaml:2: workers:", 0), 0u);
  EXPECT_EQ(errs[1].rfind("t.yaml:4: listen[0].address:", 0), 0u);
  EXPECT_EQ(errs[2].rfind("t.yaml:6: cache.memroy: unknown key", 0), 0u);
  EXPECT_EQ(errs[3].rfind("t.yaml:7: cache.negative_ttl:", 0), 0u);
  EXPECT_EQ(errs[4].rfind("t.yaml:9: upstream.servers:", 0), 0u);
}

TEST_F(ServerConfigTest, ExtraSectionsAreReadByTheProgram) {
  std::string yaml = EDGE_HEAD "geo:\n  database: /x.mmdb\n  zones: 3\n";
  std::string database;
  auto r = parse_server_config(yaml, "t.yaml", [&](MapReader& root) {
    if (auto geo = root.get_map("geo")) {
      set(database, geo->get_string(required("database")));
      geo->get_int("zones", 0, 2);
    }
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t.yaml:6: geo.zones: value 3 is out of range 0..2");
  EXPECT_EQ(database, "/x.mmdb");
  // Without the hook, the section is an unknown key.
  auto plain = parse(yaml);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message, "t.yaml:4: geo: unknown key");
}

TEST_F(ServerConfigTest, LoadFromFile) {
  std::string path = dir_.path() + "/edge.yaml";
  std::ofstream(path) << EDGE_HEAD "workers: 300\n";
  auto r = load_server_config(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind(path + ":4: workers:", 0), 0u) << r.error().message;
  auto missing = load_server_config(dir_.path() + "/missing.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.yaml: cannot open"), std::string::npos);
}

TEST_F(ServerConfigTest, NeverThrowsOnOddInput) {
  const std::string inputs[] = {"{", "tier: [", "\t", "a: *unknown", "&a [*a]", "tier: !!binary x",
                          "? [a]\n: b\n", "tier: edge\nlisten: {address: 1}\n",
                          "tier: edge\nlisten:\n  - 1\n  - [2]\n", "\xff\xfe", std::string(5000, '['),
                                std::string("a: \0 b", 6)};
  for (const std::string& in : inputs) {
    auto r = parse(in);
    EXPECT_FALSE(r.ok()) << in;
  }
}

TEST_F(ServerConfigTest, FlowControlKeys) {
  const std::string head = "tier: edge\nlisten: [{address: 127.0.0.1:8080}]\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n";
  auto d = parse(head);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->limits.send_buffer_bytes, 64u * 1024);
  EXPECT_EQ(d->timeouts.cache_lock_ms, 15'000);
  auto r = parse(head + "limits: {send_buffer_bytes: 128KiB}\ntimeouts: {cache_lock: 3s}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->limits.send_buffer_bytes, 128u * 1024);
  EXPECT_EQ(r->timeouts.cache_lock_ms, 3'000);
  auto small = parse(head + "limits: {send_buffer_bytes: 100}\n");
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("t.yaml:4: limits.send_buffer_bytes"), std::string::npos)
      << small.error().message;
  auto zero = parse(head + "timeouts: {cache_lock: 0s}\n");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("timeouts.cache_lock"), std::string::npos) << zero.error().message;
}

TEST_F(ServerConfigTest, BlockingReloadTimeout) {
  const std::string head = "tier: shield\nlisten: [{address: 127.0.0.1:8080}]\nupstream: {servers: [{address: 127.0.0.1:8081}]}\n";
  auto d = parse(head);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->timeouts.upstream_blocking_reload_ms, 30'000);
  auto r = parse(head + "timeouts: {upstream_blocking_reload: 45s}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->timeouts.upstream_blocking_reload_ms, 45'000);
  auto zero = parse(head + "timeouts: {upstream_blocking_reload: 0s}\n");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("t.yaml:4: timeouts.upstream_blocking_reload"), std::string::npos)
      << zero.error().message;
}

}  // namespace
}  // namespace cdn::config

namespace cdn::config {
namespace {

class ProxySectionTest : public ::testing::Test {
 protected:
  Result<ServerConfig> parse(const std::string& proxy_section) {
    return parse_server_config(
        "tier: shield\nlisten: [{address: 127.0.0.1:8081}]\n"
        "upstream: {servers: [{address: 127.0.0.1:8082}]}\n" +
            proxy_section,
        "t.yaml");
  }
};

TEST_F(ProxySectionTest, DefaultsKeepTheBundledOriginsPathsReadOnly) {
  auto r = parse("");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->proxy.strip_request_headers.empty());
  ASSERT_EQ(r->proxy.methods.size(), 2u);
  EXPECT_EQ(r->proxy.methods[0].match, "/vod/*");
  EXPECT_TRUE(r->proxy.methods[0].allow.empty());
}

TEST_F(ProxySectionTest, MethodsReplaceTheDefaults) {
  auto r = parse(
      "proxy:\n  strip_request_headers: [X-Secret]\n  methods:\n    - {match: \"/api/*\", allow: "
      "[POST]}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->proxy.strip_request_headers, std::vector<std::string>{"X-Secret"});
  ASSERT_EQ(r->proxy.methods.size(), 1u);
  EXPECT_EQ(r->proxy.methods[0].allow, std::vector<std::string>{"POST"});
}

TEST_F(ProxySectionTest, BadValuesNameTheLine) {
  auto r = parse("proxy:\n  methods:\n    - {match: \"/a\", allow: [post]}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.yaml:6"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("upper-case method"), std::string::npos);
  r = parse("proxy:\n  strip_request_headers: [\"a b\"]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a header field name"), std::string::npos);
}

}  // namespace
}  // namespace cdn::config
