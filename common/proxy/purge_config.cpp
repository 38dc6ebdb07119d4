#include "common/proxy/purge_config.h"

#include "common/config/reader.h"

namespace cdn::proxy {

void read_purge_section(config::MapReader& root, PurgeConfig& out) {
  auto m = root.get_map("purge");
  if (!m) return;
  if (auto b = m->get_bool("forward_to_upstreams")) out.forward_to_upstreams = *b;
  if (auto list = m->get_string_list("upstream_admins")) {
    for (const auto& text : *list) {
      auto hp = config::parse_host_port(text);
      if (!hp) {
        m->error("upstream_admins", hp.error().message);
        continue;
      }
      if (!hp->is_ip_literal() && hp->host != "localhost") {
        m->error("upstream_admins",
                 "must be a literal IP address or localhost, got \"" + hp->host + "\"");
        continue;
      }
      out.upstream_admins.push_back(*hp);
    }
  }
  if (auto t = m->get_string("upstream_admin_token")) out.upstream_admin_token = *t;
  if (auto d = m->get_duration_ms("forward_timeout", 1, 600'000)) out.forward_timeout_ms = *d;
  if (auto b = m->get_bool("strip_surrogate_keys")) out.strip_surrogate_keys = *b;
  m->finish();
}

}  // namespace cdn::proxy
