#include "common/proxy/service_build.h"

#include "common/cache/key.h"
#include "common/proxy/service_metrics.h"
#include "common/runtime/program.h"

namespace cdn::proxy {

namespace {

ProxyOptions proxy_options(runtime::Program& p, const config::ServerConfig& cfg,
                           const config::CacheConfig& cache, const config::UpstreamConfig& upstream,
                           uint64_t max_body_bytes) {
  ProxyOptions o;
  o.via_name = p.via_name();
  o.key_excluded_params = cache.ignore_query_params;
  o.key_excluded_params.push_back(cache.token_param);
  for (auto& r : cache.default_ttls) o.freshness.default_ttls.push_back({r.match, r.ttl_ms / 1000});
  o.freshness.negative_ttl_s = cache.negative_ttl_ms / 1000;
  o.freshness.default_swr_s = cache.stale_while_revalidate_ms / 1000;
  o.freshness.default_sie_s = cache.stale_if_error_ms / 1000;
  o.freshness.max_object_size = cache.max_object_size;
  if (!cache.targeted_field.empty()) o.freshness.targeted_fields.push_back(cache.targeted_field);
  o.freshness.targeted_fields.push_back("CDN-Cache-Control");
  o.forward.strip = cfg.proxy.strip_request_headers;
  o.forward.trust_forwarded_proto = cfg.tier == config::Tier::Shield;
  for (auto& r : cfg.proxy.methods) o.methods.push_back({r.match, r.allow});
  o.max_body_bytes = max_body_bytes;
  o.honour_request_directives = cfg.proxy.honour_request_directives;
  o.revalidate_interval_ms = cfg.proxy.revalidate_interval_ms;
  o.max_variants = cache.max_variants;
  o.range_reach = cache.range_reach;
  o.retries = upstream.retries;
  o.cache_lock_ms = cfg.timeouts.cache_lock_ms;
  o.blocking_reload_ms = cfg.timeouts.upstream_blocking_reload_ms;
  return o;
}

Result<std::unique_ptr<UpstreamSet>> upstream_set(runtime::Program& p,
                                                  const config::ServerConfig& cfg,
                                                  const config::UpstreamConfig& u) {
  auto servers = upstream_servers(u);
  if (!servers) return servers.error();
  http::UpstreamTimeouts ut;
  ut.connect_ms = cfg.timeouts.upstream_connect_ms;
  ut.first_byte_ms = cfg.timeouts.upstream_first_byte_ms;
  ut.idle_ms = cfg.timeouts.upstream_idle_ms;
  return std::make_unique<UpstreamSet>(
      u.policy == config::UpstreamPolicy::Rendezvous ? SelectPolicy::Rendezvous
                                                     : SelectPolicy::Failover,
      std::move(servers.value()), u.max_fails, u.fail_timeout_ms, ut, p.worker_count());
}

Result<std::unique_ptr<Service>> build_service(runtime::Program& p, const config::ServerConfig& cfg,
                                               const config::ServiceConfig* sc, size_t index,
                                               const MakePhases& make_phases,
                                               const SharedParts& shared) {
  auto s = std::make_unique<Service>();
  const config::CacheConfig& cache = sc ? sc->cache : cfg.cache;
  const config::UpstreamConfig& upstream = sc ? sc->upstream : *cfg.upstream;
  s->name = sc ? sc->name : "default";
  if (sc) {
    s->label = capped_service_label(sc->name);
    s->admin_token = sc->admin_token;
    s->hosts = sc->hosts;
  }
  auto phases = make_phases(p, cfg, sc, index);
  if (!phases)
    return make_error((sc ? "service " + sc->name + ": " : std::string()) + phases.error().message);
  s->phases = std::move(phases.value());
  auto upstreams = upstream_set(p, cfg, upstream);
  if (!upstreams)
    return make_error((sc ? "service " + sc->name + ": " : std::string()) +
                      upstreams.error().message);
  s->upstreams = std::move(upstreams.value());
  ProxyOptions o =
      proxy_options(p, cfg, cache, upstream, sc ? sc->max_body_bytes : cfg.limits.max_body_bytes);
  o.key_prefix = sc ? cache::key_prefix_of(sc->name) : std::string();
  o.service_label = s->label;
  o.strip_surrogate_keys = shared.strip_surrogate_keys;
  s->core = std::make_unique<ProxyCore>(std::move(o), shared.memory, shared.disk,
                                        s->upstreams.get(), s->phases.get());
  s->core->set_surrogate_index(shared.surrogates);
  if (shared.purge_seq) s->core->set_purge_seq(shared.purge_seq);
  if (shared.purge_barrier) s->core->set_purge_barrier(shared.purge_barrier);
  return s;
}

}  // namespace

Result<std::shared_ptr<const ServiceTable>> build_service_table(runtime::Program& p,
                                                                const config::ServerConfig& cfg,
                                                                const MakePhases& make_phases,
                                                                const SharedParts& shared) {
  std::vector<std::unique_ptr<Service>> services;
  if (cfg.services.empty()) {
    auto s = build_service(p, cfg, nullptr, 0, make_phases, shared);
    if (!s) return s.error();
    services.push_back(std::move(s.value()));
    return std::make_shared<const ServiceTable>(std::move(services), "default");
  }
  for (size_t i = 0; i < cfg.services.size(); ++i) {
    auto s = build_service(p, cfg, &cfg.services[i], i, make_phases, shared);
    if (!s) return s.error();
    services.push_back(std::move(s.value()));
  }
  return std::make_shared<const ServiceTable>(std::move(services), cfg.default_service);
}

}  // namespace cdn::proxy
