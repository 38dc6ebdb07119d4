#include "common/proxy/service_reload.h"

#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/runtime/program.h"

namespace cdn::proxy {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

void append_list(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"' + obs::json_escape(v[i]) + '"';
  }
  out += ']';
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : " ") + e;
  return s;
}

bool same_listeners(const std::vector<config::ListenConfig>& a,
                    const std::vector<config::ListenConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i].address == b[i].address) || a[i].tls != b[i].tls) return false;
  return true;
}

}  // namespace

std::string to_json(const ReloadOutcome& r) {
  std::string out = std::string("{\"reloaded\":") + (r.ok ? "true" : "false") + ",\"errors\":";
  append_list(out, r.errors);
  out += ",\"needs_restart\":";
  append_list(out, r.needs_restart);
  out += ",\"services\":";
  append_list(out, r.services);
  return out + "}\n";
}

std::vector<std::string> restart_only_changes(const config::ServerConfig& a,
                                              const config::ServerConfig& b) {
  std::vector<std::string> out;
  auto check = [&out](bool same, const char* key) {
    if (!same) out.emplace_back(key);
  };
  check(same_listeners(a.listen, b.listen), "listen");
  check(a.workers == b.workers, "workers");
  check(a.node_name == b.node_name, "node_name");
  check(a.admin.listen == b.admin.listen, "admin.listen");
  check(a.admin.token == b.admin.token, "admin.token");
  check(a.admin.tls.has_value() == b.admin.tls.has_value(), "admin.tls");
  check(a.cache.memory_bytes == b.cache.memory_bytes, "cache.memory");
  check(a.cache.memory_shards == b.cache.memory_shards, "cache.memory_shards");
  check(a.cache.disk_path == b.cache.disk_path, "cache.disk_path");
  check(a.cache.disk_max_bytes == b.cache.disk_max_bytes, "cache.disk_max");
  check(a.limits.max_connections == b.limits.max_connections, "limits.max_connections");
  check(a.limits.max_url_bytes == b.limits.max_url_bytes &&
            a.limits.max_header_bytes == b.limits.max_header_bytes &&
            a.limits.max_field_bytes == b.limits.max_field_bytes &&
            a.limits.max_headers == b.limits.max_headers,
        "limits (request head)");
  check(config::http2_enabled(a.http2, a.tier) == config::http2_enabled(b.http2, b.tier) &&
            a.http2.h2c == b.http2.h2c,
        "http2");
  check(a.timeouts.header_read_ms == b.timeouts.header_read_ms &&
            a.timeouts.keepalive_idle_ms == b.timeouts.keepalive_idle_ms &&
            a.timeouts.send_stall_ms == b.timeouts.send_stall_ms,
        "timeouts (client side)");
  check(a.access_log == b.access_log, "access_log");
  return out;
}

ReloadOutcome ServiceReloader::reload() {
  ReloadOutcome out;
  auto next =
      config::load_server_config(p_.config_path(), p_.extra_sections(), p_.service_sections());
  if (next && next->tier != p_.config().tier)
    next = make_error(p_.config_path() + ": tier: cannot change from " +
                      std::string(to_string(p_.config().tier)));
  if (!next) {
    out.errors = lines_of(next.error().message);
    obs::log(obs::Level::Error, "reload refused, the running config stays",
             {{"errors", next.error().message}});
    return out;
  }
  auto table = build_service_table(p_, *next, make_phases_, *shared_);
  if (!table) {
    out.errors.push_back(table.error().message);
    obs::log(obs::Level::Error, "reload refused, the running config stays",
             {{"errors", table.error().message}});
    return out;
  }
  if (auto r = p_.reload_tls(*next); !r) {
    out.errors.push_back("tls: " + r.error().message);
    obs::log(obs::Level::Error, "tls reload failed, keeping the old certificates",
             {{"error", r.error().message}});
    return out;  // the new table was never used: it goes here
  }
  out.ok = true;
  out.needs_restart = restart_only_changes(p_.config(), *next);
  for (const auto& s : table.value()->services()) out.services.push_back(s->name);
  retired_.push_back(router_->swap(std::move(table.value())));
  if (after_swap_)
    for (auto& key : after_swap_()) out.needs_restart.push_back(std::move(key));
  obs::log(obs::Level::Info, "reloaded",
           {{"services", joined(out.services)}, {"needs_restart", joined(out.needs_restart)}});
  sweep();
  return out;
}

void ServiceReloader::sweep() {
  std::erase_if(retired_, [this](std::shared_ptr<const ServiceTable>& t) {
    if (t.use_count() > 1) return false;  // a request still holds it
    for (const auto& s : t->services())
      if (s->core->inflight().size() > 0) return false;  // a fill still runs in it
    // Each worker closes the table's upstream connections (its own loop's handles); the last
    // of them to finish destroys the table.
    auto last = std::make_shared<std::shared_ptr<const ServiceTable>>(std::move(t));
    for (size_t i = 0; i < p_.worker_count(); ++i) {
      net::Worker* w = &p_.worker(i);
      w->post([last, w] {
        for (const auto& s : (*last)->services()) s->upstreams->drop_pools(*w);
      });
    }
    return true;
  });
}

}  // namespace cdn::proxy
