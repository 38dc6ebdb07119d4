#include "common/proxy/purge_route.h"

#include "common/cache/thread_pool.h"
#include "common/http/query.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/proxy/proxy_core.h"
#include "common/proxy/proxy_program.h"
#include "common/util/strings.h"

namespace cdn::proxy {

namespace {

void answer(const std::shared_ptr<http::Exchange>& ex, const std::string& node,
            const PurgeSpec& spec, size_t purged,
            const std::vector<UpstreamPurgeResult>& upstreams) {
  bool all_ok = true;
  for (auto& r : upstreams) all_ok = all_ok && r.ok();
  std::string body = "{\"purged\":" + std::to_string(purged) + ",\"node\":\"" +
                     obs::json_escape(node) + "\",\"kind\":\"" + to_string(spec.kind) +
                     "\",\"soft\":" + (spec.soft ? "true" : "false");
  if (!upstreams.empty()) body += ",\"upstreams\":" + to_json(upstreams);
  body += "}\n";
  http::Headers h{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
  // Purged here, but some upstream may still hold the old copy and hand it back on the next miss:
  // the operator must see that and retry, so it is an error status with every tier's result.
  if (!all_ok) h.add("X-Error-Reason", "upstream-purge-failed");
  ex->respond(all_ok ? 200 : 502, std::move(h), body);
}

void count_rejected(const std::string& reason) {
  obs::metrics()
      .counter("cdn_purge_rejections_total", "Purge requests refused, by reason",
               {{"reason", reason}})
      .inc();
}

}  // namespace

std::optional<LocalPurge> local_purge_of(const PurgeSpec& spec, const ProxyCore& core,
                                         Phases* phases) {
  LocalPurge p{spec.kind, {}, spec.soft};
  if (spec.kind == PurgeKind::Key) {
    p.target = spec.value;
    return p;
  }
  ParsedUrl u;
  if (!parse_purge_url(spec.value, u)) return std::nullopt;
  if (spec.kind == PurgeKind::Url) {
    http::Request r;
    r.query = u.query;
    std::string qk = phases ? phases->upstream_query(r) : u.query;
    p.target = core.key_for(u.host, u.path, qk).text;
  } else {
    p.target = u.host + u.path;
  }
  return p;
}

void count_purge(const PurgeSpec& spec, const char* scope) {
  obs::metrics()
      .counter("cdn_purges_total", "Purges accepted, by kind and scope (node, fleet)",
               {{"kind", to_string(spec.kind)}, {"scope", scope}})
      .inc();
}

void add_purge_route(runtime::Program& p, PurgeRouteDeps deps) {
  p.admin().add_write(
      "/admin/purge", [d = std::move(deps)](const std::shared_ptr<http::Exchange>& ex) {
        auto spec = purge_spec_from_query(ex->request().query);
        std::optional<LocalPurge> local;
        if (spec) local = local_purge_of(*spec, *d.core, d.phases);
        if (!spec || !local) {
          std::string reason = spec ? "purge-bad-url" : spec.error().message;
          count_rejected(reason);
          ex->respond_error(400, reason);
          return;
        }
        if (d.fleet && d.fleet->submit(ex, *spec)) return;  // the fleet answers
        if (http::query_value(ex->request().query, "fleet").value_or("0") == "1") {
          count_rejected("purge-no-fleet");  // asked for the fleet: purging one node is not that
          ex->respond_error(409, "purge-no-fleet");
          return;
        }
        count_purge(*spec, "node");
        auto purge_here = [d, ex, spec = *spec,
                           local = *local](std::vector<UpstreamPurgeResult> upstreams) {
          net::Worker* loop = ex->worker();
          d.jobs->submit([d, ex, spec, local, loop, upstreams = std::move(upstreams)]() mutable {
            size_t n = d.core->purge(local);
            loop->post([d, ex, spec, n, upstreams = std::move(upstreams)]() {
              answer(ex, d.node, spec, n, upstreams);
            });
          });
        };
        if (d.forwarder && !d.forwarder->empty())
          d.forwarder->forward("/admin/purge?" + to_query(*spec), purge_here);
        else
          purge_here({});
      });
}

}  // namespace cdn::proxy
