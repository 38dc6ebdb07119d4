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

// What to purge here: one key's text, or a prefix of key texts.
struct PurgeTarget {
  std::string key_text;
  bool prefix = false;
  std::string forward_query;  // the same request for the upstream tier
};

std::optional<PurgeTarget> target_of(const http::Request& req, const PurgeRouteDeps& d) {
  std::string url = http::query_value(req.query, "url").value_or(""),
              prefix = http::query_value(req.query, "prefix").value_or("");
  ParsedUrl u;
  if ((url.empty() == prefix.empty()) || !parse_purge_url(url.empty() ? prefix : url, u))
    return std::nullopt;
  PurgeTarget t;
  if (!url.empty()) {
    http::Request r;
    r.query = u.query;
    std::string qk = d.phases ? d.phases->upstream_query(r) : u.query;
    t.key_text = d.core->key_for(u.host, u.path, qk).text;
    t.forward_query = "url=" + percent_encode(url);
  } else {
    t.key_text = u.host + u.path;
    t.prefix = true;
    t.forward_query = "prefix=" + percent_encode(prefix);
  }
  return t;
}

void answer(const std::shared_ptr<http::Exchange>& ex, const std::string& node, size_t purged,
            const std::vector<UpstreamPurgeResult>& upstreams) {
  bool all_ok = true;
  for (auto& r : upstreams) all_ok = all_ok && r.ok();
  std::string body =
      "{\"purged\":" + std::to_string(purged) + ",\"node\":\"" + obs::json_escape(node) + "\"";
  if (!upstreams.empty()) body += ",\"upstreams\":" + to_json(upstreams);
  body += "}\n";
  http::Headers h{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
  // Purged here, but some upstream may still hold the old copy and hand it back on the next miss:
  // the operator must see that and retry, so it is an error status with every tier's result.
  if (!all_ok) h.add("X-Error-Reason", "upstream-purge-failed");
  ex->respond(all_ok ? 200 : 502, std::move(h), body);
}

}  // namespace

void add_purge_route(runtime::Program& p, PurgeRouteDeps deps) {
  p.admin().add_write(
      "/admin/purge", [d = std::move(deps)](const std::shared_ptr<http::Exchange>& ex) {
        auto t = target_of(ex->request(), d);
        if (!t) {
          ex->respond_error(400, "purge-needs-url-or-prefix");
          return;
        }
        obs::metrics()
            .counter("cdn_purges_total", "Purge requests", {{"kind", t->prefix ? "prefix" : "url"}})
            .inc();
        auto purge_here = [d, ex, t = *t](std::vector<UpstreamPurgeResult> upstreams) {
          net::Worker* loop = ex->worker();
          d.jobs->submit([d, ex, t, loop, upstreams = std::move(upstreams)]() mutable {
            size_t n = d.core->purge(t.key_text, t.prefix);
            loop->post([d, ex, n, upstreams = std::move(upstreams)]() {
              answer(ex, d.node, n, upstreams);
            });
          });
        };
        if (d.forwarder && !d.forwarder->empty())
          d.forwarder->forward("/admin/purge?" + t->forward_query, purge_here);
        else
          purge_here({});
      });
}

}  // namespace cdn::proxy
