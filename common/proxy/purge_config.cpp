#include "common/proxy/purge_config.h"

#include "common/config/reader.h"

namespace cdn::proxy {

void read_purge_section(config::MapReader& root, PurgeConfig& out) {
  auto m = root.get_map("purge");
  if (!m) return;
  if (auto b = m->get_bool("forward_to_upstreams")) out.forward_to_upstreams = *b;
  if (auto list = m->get_string_list("upstream_admins")) {
    for (const auto& text : *list) {
      auto url = config::parse_admin_url(text, true);
      if (!url) {
        m->error("upstream_admins", url.error().message);
        continue;
      }
      const auto& host = url->address.host;
      if (!url->address.is_ip_literal() && host != "localhost") {
        m->error("upstream_admins",
                 "must be a literal IP address or localhost, got \"" + host + "\"");
        continue;
      }
      out.upstream_admins.push_back(*url);
    }
  }
  if (auto c = m->get_map("admin_client")) {
    // Loaded now, so --check-config finds a key that is not the certificate's.
    config::read_loadable_client_tls(*c, out.admin_client);
    c->finish();
  }
  if (auto t = m->get_string("upstream_admin_token")) out.upstream_admin_token = *t;
  if (auto d = m->get_duration_ms("forward_timeout", 1, 600'000)) out.forward_timeout_ms = *d;
  if (auto b = m->get_bool("strip_surrogate_keys")) out.strip_surrogate_keys = *b;
  if (auto r = m->get_map("redis")) {
    FleetPurgeConfig f;
    if (auto a = r->get_host_port(config::required("address"))) f.address = *a;
    if (auto v = r->get_string("channel", false)) f.channel = *v;
    if (auto v = r->get_string("stream", false)) f.stream = *v;
    if (auto v = r->get_string("key_prefix", false)) f.key_prefix = *v;
    if (auto v = r->get_string("username", false)) f.username = *v;
    if (auto v = r->get_string("password", false)) f.password = *v;
    if (!f.username.empty() && f.password.empty()) r->error("username", "an ACL user needs its password");
    if (auto v = r->get_int("stream_max_len", 10, 10'000'000)) f.stream_max_len = *v;
    if (auto d = r->get_duration_ms("wait", 0, 60'000)) f.wait_ms = *d;
    if (auto d = r->get_duration_ms("heartbeat", 10, 60'000)) f.heartbeat_ms = *d;
    if (auto d = r->get_duration_ms("node_timeout", 100, 600'000)) f.node_timeout_ms = *d;
    if (auto d = r->get_duration_ms("command_timeout", 10, 60'000)) f.command_timeout_ms = *d;
    if (auto d = r->get_duration_ms("barrier_timeout", 0, 60'000)) f.barrier_timeout_ms = *d;
    if (f.node_timeout_ms <= f.heartbeat_ms) r->error("node_timeout", "must be longer than heartbeat");
    r->finish();
    out.redis = std::move(f);
  }
  m->finish();
}

}  // namespace cdn::proxy
