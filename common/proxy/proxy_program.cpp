#include "common/proxy/proxy_program.h"

#include "common/cache/disk_tier.h"
#include "common/cache/memory_tier.h"
#include "common/cache/surrogate_index.h"
#include "common/cache/thread_pool.h"
#include "common/http/request_target.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/proxy/fleet_purge.h"
#include "common/proxy/proxy_core.h"
#include "common/proxy/purge_config.h"
#include "common/proxy/purge_forwarder.h"
#include "common/proxy/purge_route.h"
#include "common/proxy/service_metrics.h"
#include "common/proxy/service_purge.h"
#include "common/proxy/service_reload.h"
#include "common/proxy/service_router.h"
#include "common/util/strings.h"

namespace cdn::proxy {

bool parse_purge_url(std::string_view url, ParsedUrl& out) {
  if (starts_with(url, "http://")) url.remove_prefix(7);
  else if (starts_with(url, "https://")) url.remove_prefix(8);
  auto slash = url.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view host = url.substr(0, slash);
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']') == std::string_view::npos)
    host = host.substr(0, colon);
  // The same normalization as a viewer's request, so `//vod/x` purges what `/vod/x` stored.
  auto target = http::normalize_target(url.substr(slash), http::EscapedSlashes::Keep);
  if (!target.ok()) return false;
  out.host = to_lower(host);
  out.path = std::move(target.path);
  out.query = std::move(target.query);
  return true;
}

namespace {

struct ProxyTier {
  std::unique_ptr<cache::SurrogateIndex> surrogates;  // before the disk tier, which reports to it
  std::unique_ptr<cache::MemoryTier> memory;
  std::unique_ptr<cache::DiskTier> disk;
  std::unique_ptr<ServiceRouter> router;  // the delivery services, swapped whole on reload
  std::unique_ptr<ServicePurge> service_purge;
  std::unique_ptr<ServiceReloader> reloader;  // admin loop only
  std::unique_ptr<PurgeForwarder> purge_forwarder;
  // After the caches, so it is destroyed before them: a purge still running here finishes first.
  std::unique_ptr<cache::ThreadPool> purge_jobs;
  std::unique_ptr<FleetPurge> fleet_purge;  // submits to purge_jobs: destroyed before it
  obs::CollectorHandle collector;  // reads the members above; declared last, so it goes first
};

Result<std::unique_ptr<PurgeForwarder>> make_purge_forwarder(runtime::Program& p, const PurgeConfig& pc) {
  std::string token = pc.upstream_admin_token.empty() ? p.config().admin.token : pc.upstream_admin_token;
  return PurgeForwarder::create(&p.admin_worker(), pc, std::move(token));
}

// /healthz: the hit ratio's inputs (result="hit" over all lookups, as the alert rules count it),
// summed over every delivery service.
void add_cache_health_fields(runtime::Program& p) {
  p.add_health_field("cache_hits_total", [] {
    const Lookup hit = Lookup::Hit;
    return lookups_total(&hit);
  });
  p.add_health_field("cache_lookups_total", [] { return lookups_total(nullptr); });
}

Result<void> open_caches(const config::ServerConfig& cfg, ProxyTier& t) {
  t.surrogates = std::make_unique<cache::SurrogateIndex>();
  t.memory = std::make_unique<cache::MemoryTier>(cfg.cache.memory_bytes, cfg.cache.memory_shards);
  if (!cfg.cache.disk_path.empty()) {
    cache::DiskOptions d;
    d.path = cfg.cache.disk_path;
    d.max_bytes = cfg.cache.disk_max_bytes;
    d.on_removed = [index = t.surrogates.get()](std::string_view key_text) {
      index->remove(key_text);
    };
    auto disk = cache::DiskTier::open(d);
    if (!disk) return make_error("cache.disk_path: " + disk.error().message);
    t.disk = std::move(disk.value());
    // The keys of what an earlier run stored: a purge by key reaches those objects too.
    t.disk->for_each_object_tags(
        [&t](std::string_view key_text, const std::vector<std::string>& keys) {
          t.surrogates->set(std::string(key_text), keys);
        });
  } else {
    // Without a disk tier an object evicted from memory is gone: its index entry goes too.
    t.memory->set_on_evict(
        [index = t.surrogates.get()](std::string_view key_text) { index->remove(key_text); });
  }
  return {};
}

void collect_cache_metrics(obs::Registry& r, ProxyTier& t) {
  auto& ms = t.memory->stats();
  r.gauge("cdn_cache_memory_bytes", "Bytes charged to the memory tier")
      .set(int64_t(t.memory->bytes()));
  r.gauge("cdn_cache_memory_objects", "Objects in the memory tier").set(int64_t(t.memory->count()));
  r.gauge("cdn_cache_memory_evictions", "Evictions from the memory tier since start")
      .set(int64_t(ms.evictions.load()));
  auto table = t.router->table();
  size_t fills = 0;
  for (const auto& s : table->services()) fills += s->core->inflight().size();
  r.gauge("cdn_fills_inflight", "Upstream fills running").set(int64_t(fills));
  r.gauge("cdn_surrogate_keys", "Distinct surrogate keys indexed")
      .set(int64_t(t.surrogates->keys()));
  if (t.fleet_purge) {
    r.gauge("cdn_purge_fleet_applied", "Number of the last fleet purge applied here")
        .set(int64_t(t.fleet_purge->applied().load(std::memory_order_relaxed)));
    r.gauge("cdn_purge_fleet_out_of_touch",
            "1 while this node cannot reach the purge feed and revalidates every object")
        .set(t.fleet_purge->out_of_touch() ? 1 : 0);
  }
  r.gauge("cdn_surrogate_index_bytes", "Estimated memory of the surrogate-key index")
      .set(int64_t(t.surrogates->bytes()));
  if (t.disk) {
    auto& ds = t.disk->stats();
    r.gauge("cdn_cache_disk_hits", "Disk tier hits since start").set(int64_t(ds.hits.load()));
    r.gauge("cdn_cache_disk_misses", "Disk tier misses since start").set(int64_t(ds.misses.load()));
    r.gauge("cdn_cache_disk_corrupt", "Corrupt disk entries dropped since start")
        .set(int64_t(ds.corrupt.load()));
    r.gauge("cdn_cache_disk_writes", "Disk tier writes since start").set(int64_t(ds.writes.load()));
    r.gauge("cdn_cache_disk_bytes", "Bytes stored in the disk tier").set(int64_t(t.disk->bytes()));
    r.gauge("cdn_cache_disk_evictions", "Objects evicted from the disk tier to stay under disk_max")
        .set(int64_t(ds.evictions.load()));
    r.gauge("cdn_cache_disk_chunk_reads", "Body chunk records read from the disk tier since start")
        .set(int64_t(ds.chunk_reads.load()));
    r.gauge("cdn_cache_disk_legacy_reads",
            "Objects read in an older disk format version since start")
        .set(int64_t(ds.legacy_reads.load()));
  }
  for (const auto& s : table->services())
    for (size_t i = 0; i < s->upstreams->size(); ++i)
      r.gauge("cdn_upstream_up", "1 when the upstream is considered healthy",
              with_service({{"upstream", s->upstreams->name(i)}}, s->label))
          .set(s->upstreams->is_up(i) ? 1 : 0);
}

}  // namespace

int run_proxy_program(int argc, char** argv, const char* name, config::Tier tier, TierHooks tier_hooks) {
  runtime::Program program(name, tier);
  ProxyTier t;
  PurgeConfig purge_cfg;
  SharedParts shared;
  runtime::Program::Hooks hooks;
  hooks.setup = [&](runtime::Program& p) -> Result<http::RequestHandler*> {
    const auto& cfg = p.config();
    if (auto r = open_caches(cfg, t); !r) return r.error();
    t.router = std::make_unique<ServiceRouter>(nullptr);
    t.service_purge = std::make_unique<ServicePurge>(t.router.get());
    if (tier_hooks.service_tokens)
      tier_hooks.service_tokens([s = t.service_purge.get()](std::string_view authorization) {
        return s->service_of_token(authorization);
      });
    t.purge_jobs = std::make_unique<cache::ThreadPool>(1);
    shared.memory = t.memory.get();
    shared.disk = t.disk.get();
    shared.surrogates = t.surrogates.get();
    shared.strip_surrogate_keys =
        purge_cfg.strip_surrogate_keys.value_or(tier != config::Tier::Shield);
    const std::string node = cfg.node_name.empty() ? p.via_name() : cfg.node_name;
    if (purge_cfg.redis) {
      // The fleet's feed replaces forwarding to upstream admins.
      t.fleet_purge = std::make_unique<FleetPurge>(FleetPurgeDeps{
          &p.admin_worker(), t.service_purge.get(), t.purge_jobs.get(), node, *purge_cfg.redis});
      p.admin_worker().post([f = t.fleet_purge.get()] { f->start(); });
      shared.purge_seq = &t.fleet_purge->applied();
      if (tier == config::Tier::Shield)
        shared.purge_barrier = [f = t.fleet_purge.get()](uint64_t seq, net::Worker* w,
                                                         std::function<void()> resume) {
          return f->hold(seq, w, std::move(resume));
        };
      p.admin().add_private_read("/admin/purges/*", [f = t.fleet_purge.get()](const std::shared_ptr<http::Exchange>& ex) {
        f->report(ex, std::string_view(ex->request().path).substr(std::string_view("/admin/purges/").size()));
      });
    } else {
      auto forwarder = make_purge_forwarder(p, purge_cfg);
      if (!forwarder) return forwarder.error();
      t.purge_forwarder = std::move(forwarder.value());
    }
    auto table = build_service_table(p, cfg, tier_hooks.make_phases, shared);
    if (!table) return table.error();
    t.router->swap(std::move(table.value()));
    t.reloader = std::make_unique<ServiceReloader>(p, t.router.get(), tier_hooks.make_phases,
                                                   &shared, tier_hooks.after_reload);
    p.admin().add_write(
        "/admin/reload", [r = t.reloader.get()](const std::shared_ptr<http::Exchange>& ex) {
          ReloadOutcome out = r->reload();
          http::Headers h{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
          if (!out.ok) h.add("X-Error-Reason", "config-refused");
          ex->respond(out.ok ? 200 : 400, std::move(h), to_json(out));
        });
    add_purge_route(p, {t.service_purge.get(), t.purge_forwarder.get(), t.purge_jobs.get(), node,
                        t.fleet_purge.get()});
    add_cache_health_fields(p);
    t.collector = obs::metrics().add_collector([&t, admin = &p.admin_worker()](obs::Registry& r) {
      collect_cache_metrics(r, t);
      // The reloader is the admin loop's: a render there (GET /metrics) frees what it can.
      if (net::Worker::current() == admin) t.reloader->sweep();
      r.gauge("cdn_service_tables_retired",
              "Replaced service tables still used by requests or fills")
          .set(int64_t(t.reloader->retired()));
    });
    return static_cast<http::RequestHandler*>(t.router.get());
  };
  hooks.extra_sections = [&purge_cfg, tier = tier_hooks.extra_sections](config::MapReader& root) {
    read_purge_section(root, purge_cfg);
    if (tier) tier(root);
  };
  hooks.service_sections = tier_hooks.service_sections;
  // SIGHUP: the whole config again (services, upstreams and their certificates, keys, rules),
  // on the admin loop, whose routes and /healthz fields a tier's phases may add to.
  hooks.reloads_whole_config = true;
  hooks.on_reload = [&t, tier_reload = tier_hooks.on_reload](runtime::Program& p) {
    p.admin_worker().post([&t] { t.reloader->reload(); });
    if (auto r = t.purge_forwarder ? t.purge_forwarder->reload_tls() : Result<void>{}; !r)
      obs::log(obs::Level::Error, "purge tls reload failed, keeping the old certificates", {{"error", r.error().message}});
    if (tier_reload) tier_reload(p);
  };
  hooks.on_shutdown = [&t](runtime::Program&) {
    if (t.disk) t.disk->wait_idle();
  };
  return program.main(argc, argv, std::move(hooks));
}

}  // namespace cdn::proxy
