// upstream and origin sections.
#include "common/config/client_tls.h"
#include "common/config/sections.h"

namespace cdn::config::sections {

namespace {

enum class Scheme { None, Http, Https };

// "https://host:port", "http://host:port" or "host:port"; a bad one is reported at `key`.
std::optional<HostPort> read_server_address(MapReader& s, std::string_view key, Scheme& scheme) {
  auto text = s.get_string(required(key), false);
  if (!text) return std::nullopt;
  std::string_view v = *text;
  scheme = Scheme::None;
  for (auto [prefix, sc] : {std::pair{"https://", Scheme::Https}, std::pair{"http://", Scheme::Http}}) {
    if (v.substr(0, std::string_view(prefix).size()) == prefix) {
      v.remove_prefix(std::string_view(prefix).size());
      scheme = sc;
    }
  }
  auto hp = parse_host_port(v);
  if (!hp) {
    s.error(key, hp.error().message);
    return std::nullopt;
  }
  return hp.value();
}

}  // namespace

void read_upstream(MapReader& m, Tier tier, UpstreamConfig& out) {
  out.policy = tier == Tier::Shield ? UpstreamPolicy::Failover : UpstreamPolicy::Rendezvous;
  if (auto p = m.get_enum("policy", {"rendezvous", "failover"}))
    out.policy = *p == "failover" ? UpstreamPolicy::Failover : UpstreamPolicy::Rendezvous;
  const bool tls_section = m.has("tls");
  if (auto t = m.get_map("tls")) {
    read_client_tls(*t, out.tls);
    t->finish();
  }
  for (MapReader& s : m.get_maps(required("servers"), 1)) {
    UpstreamServer server;
    Scheme scheme = Scheme::None;
    auto addr = read_server_address(s, "address", scheme);
    if (scheme == Scheme::Http && tls_section)
      s.error("address", "http:// server under an upstream with a tls section (its servers all use TLS)");
    server.tls = scheme == Scheme::Https || (scheme == Scheme::None && tls_section);
    set(server.server_name, s.get_string("server_name", false));
    if (!server.server_name.empty() && !server.tls)
      s.error("server_name", "only for TLS servers (an https:// address or an upstream tls section)");
    set(server.backup, s.get_bool("backup"));
    if (server.backup && out.policy != UpstreamPolicy::Failover)
      s.error("backup", "backup servers need policy: failover");
    if (addr && !addr->is_ip_literal() && addr->host != "localhost")
      s.error("address", "must be a literal IP address or localhost, got \"" + addr->host + "\"");
    for (const auto& prev : out.servers)
      if (addr && prev.address == *addr) s.error("address", "duplicate upstream " + addr->str());
    s.finish();
    if (!addr) continue;
    server.address = *addr;
    if (server.tls && server.server_name.empty()) server.server_name = addr->host;
    out.servers.push_back(std::move(server));
  }
  bool any_primary = out.servers.empty();
  for (const auto& s : out.servers) any_primary = any_primary || !s.backup;
  if (!any_primary) m.error("servers", "needs at least one server that is not a backup");
  set(out.max_fails, m.get_int("max_fails", 1, 1000));
  set(out.fail_timeout_ms, m.get_duration_ms("fail_timeout", 0, 86'400'000));
  set(out.retries, m.get_int("retries", 0, 16));
}

void read_origin(MapReader& m, OriginConfig& out) {
  if (auto root = m.get_string(required("root"), false)) {
    check_readable(m, "root", *root, true);
    out.root = *root;
  }
  set(out.playlist_max_age_ms, m.get_duration_ms("playlist_max_age"));
  set(out.segment_max_age_ms, m.get_duration_ms("segment_max_age"));
}

}  // namespace cdn::config::sections
