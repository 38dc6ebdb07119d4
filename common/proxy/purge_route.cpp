#include "common/proxy/purge_route.h"

#include "common/cache/thread_pool.h"
#include "common/http/query.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/proxy/proxy_core.h"
#include "common/proxy/proxy_program.h"
#include "common/proxy/service_purge.h"
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

void count_purge(const PurgeSpec& spec, const char* scope) {
  obs::metrics()
      .counter("cdn_purges_total", "Purges accepted, by kind and scope (node, fleet)",
               {{"kind", to_string(spec.kind)}, {"scope", scope}})
      .inc();
}

void add_purge_route(runtime::Program& p, PurgeRouteDeps deps) {
  runtime::AdminApi* admin = &p.admin();
  const ServicePurge* services = deps.services;
  auto route = [d = std::move(deps), admin](const std::shared_ptr<http::Exchange>& ex) {
    auto spec = purge_spec_from_query(ex->request().query);
    // A delivery service's own token purges that service only, whatever the query says.
    if (spec && !admin->is_operator(*ex))
      spec->service = d.services->service_of_token(ex->request().headers.get_or("authorization"));
    Result<LocalPurge> local =
        spec ? d.services->local_of(*spec) : Result<LocalPurge>(spec.error());
    if (!local) {
      count_rejected(local.error().message);
      ex->respond_error(400, local.error().message);
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
        size_t n = d.services->purge(local);
        loop->post([d, ex, spec, n, upstreams = std::move(upstreams)]() {
          answer(ex, d.node, spec, n, upstreams);
        });
      });
    };
    if (d.forwarder && !d.forwarder->empty())
      d.forwarder->forward("/admin/purge?" + to_query(*spec), purge_here);
    else
      purge_here({});
  };
  p.admin().add_scoped_write("/admin/purge", std::move(route),
                             [services](std::string_view authorization) {
                               return !services->service_of_token(authorization).empty();
                             });
}

}  // namespace cdn::proxy
