// upstream and origin sections.
#include "common/config/sections.h"

namespace cdn::config::sections {

void read_upstream(MapReader& m, Tier tier, UpstreamConfig& out) {
  out.policy = tier == Tier::Shield ? UpstreamPolicy::Failover : UpstreamPolicy::Rendezvous;
  if (auto p = m.get_enum("policy", {"rendezvous", "failover"}))
    out.policy = *p == "failover" ? UpstreamPolicy::Failover : UpstreamPolicy::Rendezvous;
  for (MapReader& s : m.get_maps(required("servers"), 1)) {
    UpstreamServer server;
    auto addr = s.get_host_port(required("address"));
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
