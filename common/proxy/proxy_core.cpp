#include "common/proxy/proxy_core.h"

#include <algorithm>

#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::proxy {

ProxyCore::ProxyCore(ProxyOptions opts, cache::MemoryTier* memory, cache::DiskTier* disk, UpstreamSet* upstreams,
                     Phases* phases)
    : opts_(std::move(opts)), phases_(phases ? phases : &default_phases_) {
  fetch_ctx_.memory = memory;
  fetch_ctx_.disk = disk;
  fetch_ctx_.upstreams = upstreams;
  fetch_ctx_.inflight = &inflight_;
  fetch_ctx_.freshness = opts_.freshness;
  fetch_ctx_.via_name = opts_.via_name;
  fetch_ctx_.retries = opts_.retries;
  fetch_ctx_.unstored_window = opts_.unstored_window;
  delivery_ctx_.cache_lock_ms = opts_.cache_lock_ms;
  delivery_ctx_.via_name = opts_.via_name;
  delivery_ctx_.strip_surrogate_keys = opts_.strip_surrogate_keys;
  delivery_ctx_.phases = phases_;
}

cache::CacheKey ProxyCore::key_for(std::string_view host, std::string_view path, std::string_view query) const {
  return cache::make_key(host, path, query, opts_.key_excluded_params);
}

FetchRequest ProxyCore::fetch_request(const http::Exchange& ex, const std::string& query, cache::ObjectRef stale) const {
  FetchRequest r;
  const auto& req = ex.request();
  r.host = std::string(req.headers.get_or("host", req.host));
  r.path = req.path;
  r.path_and_query = query.empty() ? req.path : req.path + "?" + query;
  r.client_ip = ex.client_ip();
  r.stale = std::move(stale);
  return r;
}

void ProxyCore::handle(const std::shared_ptr<http::Exchange>& ex) {
  if (purge_barrier_) {
    // A refill from a tier below that has applied a fleet purge this node may not have yet.
    if (const std::string* v = ex->request().headers.get("x-purge-seq")) {
      auto seq = parse_int(*v);
      std::weak_ptr<http::Exchange> weak = ex;
      auto resume = [this, weak]() {
        auto e = weak.lock();
        if (e && e->alive() && !e->started()) run_request(e);
      };
      if (seq && *seq > 0 && purge_barrier_(uint64_t(*seq), ex->worker(), std::move(resume))) return;
    }
  }
  run_request(ex);
}

void ProxyCore::run_request(const std::shared_ptr<http::Exchange>& ex) {
  std::shared_ptr<RequestContext> rc = phases_->make_context();
  rc->upstream_query = phases_->upstream_query(ex->request());
  std::weak_ptr<http::Exchange> weak = ex;
  auto resume = [this, weak, rc]() {
    auto e = weak.lock();
    if (e && e->alive() && !e->started()) lookup(e, rc);
  };
  if (phases_->run_request_filter(ex, *rc, resume) == Phases::Filter::Continue) lookup(ex, rc);
}

void ProxyCore::lookup(const std::shared_ptr<http::Exchange>& ex,
                       const std::shared_ptr<RequestContext>& rc) {
  auto& req = ex->request();
  if (req.method != "GET" && req.method != "HEAD") {
    http::Headers h{{"Allow", "GET, HEAD"}};
    phases_->run_response_filter(*ex, *rc, h, false);
    ex->respond_error(405, "method-not-allowed", std::move(h));
    return;
  }
  const std::string& query = rc->upstream_query;
  cache::CacheKey key = key_for(req.host, req.path, query);

  if (cache::ObjectRef obj = fetch_ctx_.memory->get(key)) {
    switch (cache::classify(obj->meta, unix_now())) {
      case cache::Freshness::Fresh:
        std::make_shared<Delivery>(ex, rc, &delivery_ctx_)->serve_object(obj, "HIT");
        return;
      case cache::Freshness::StaleRevalidate:
        std::make_shared<Delivery>(ex, rc, &delivery_ctx_)->serve_object(obj, "STALE");
        refresh_in_background(ex, key, query, obj);
        return;
      default:
        join_fill(ex, rc, key, query, obj);  // revalidate; fall back on it within stale-if-error
        return;
    }
  }
  join_fill(ex, rc, key, query, nullptr);
}

void ProxyCore::join_fill(const std::shared_ptr<http::Exchange>& ex,
                          const std::shared_ptr<RequestContext>& rc, const cache::CacheKey& key,
                          const std::string& query, cache::ObjectRef stale) {
  auto [fill, created] = inflight_.join_or_create(key);
  if (created) fill->set_range_reach(opts_.range_reach);
  std::weak_ptr<http::Exchange> weak = ex;
  std::make_shared<Delivery>(ex, rc, &delivery_ctx_)->follow(fill, created, [this, weak, key, query]() {
    auto e = weak.lock();
    return e && e->alive() ? fetch_alone(e, key, query) : nullptr;
  });
  if (created) {
    std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), fill, fetch_request(*ex, query, std::move(stale)))->start();
  }
}

std::shared_ptr<Fill> ProxyCore::fetch_alone(const std::shared_ptr<http::Exchange>& ex,
                                             const cache::CacheKey& key, const std::string& query) {
  FetchRequest r = fetch_request(*ex, query, nullptr);
  const auto& req = ex->request();
  std::shared_ptr<Fill> fill;
  if (const std::string* range = req.headers.get("range"); range && req.method == "GET") {
    // Its bytes are its own: the upstream applies Range (and If-Range) and nobody joins it.
    r.range = *range;
    r.if_range = std::string(req.headers.get_or("if-range"));
    fill = std::make_shared<Fill>(key);
    fill->set_single_request();
  } else {
    fill = inflight_.replace(key);
  }
  std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), fill, std::move(r))->start();
  return fill;
}

void ProxyCore::refresh_in_background(const std::shared_ptr<http::Exchange>& ex, const cache::CacheKey& key,
                                      const std::string& query, cache::ObjectRef stale) {
  auto [fill, created] = inflight_.join_or_create(key);
  if (!created) return;  // a refresh is already running
  // The stale copy was read before the fill was created: a refresh that finished in between has
  // already stored a fresh one, and a second refresh would only ask the upstream again.
  if (cache::ObjectRef now = fetch_ctx_.memory->get(key);
      now && now != stale && cache::classify(now->meta, unix_now()) == cache::Freshness::Fresh) {
    fill->finish_with_object(now, "HIT");
    inflight_.remove(key, fill.get());
    return;
  }
  std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), fill, fetch_request(*ex, query, std::move(stale)))->start();
}

size_t ProxyCore::purge_one(const std::string& key_text, bool soft) {
  cache::CacheKey k{key_text, cache::hash64(key_text)};
  inflight_.purge(key_text, false);  // a fill under way may hold the old version: not stored
  size_t n = 0;
  if (soft) {
    n += fetch_ctx_.memory->mark_stale(k) ? 1 : 0;
    if (fetch_ctx_.disk) n += fetch_ctx_.disk->mark_stale(key_text) ? 1 : 0;
    return n;
  }
  if (fetch_ctx_.surrogates) fetch_ctx_.surrogates->remove(key_text);
  n += fetch_ctx_.memory->erase(k) ? 1 : 0;
  if (fetch_ctx_.disk) n += fetch_ctx_.disk->erase(key_text) ? 1 : 0;
  return n;
}

size_t ProxyCore::purge(const LocalPurge& p) {
  auto* memory = fetch_ctx_.memory;
  auto* disk = fetch_ctx_.disk;
  switch (p.kind) {
    case PurgeKind::Url:
      return purge_one(p.target, p.soft);
    case PurgeKind::Prefix: {
      inflight_.purge(p.target, true);
      if (p.soft) return memory->mark_stale_prefix(p.target) + (disk ? disk->mark_stale_prefix(p.target) : 0);
      if (fetch_ctx_.surrogates) fetch_ctx_.surrogates->remove_prefix(p.target);
      return memory->erase_prefix(p.target) + (disk ? disk->erase_prefix(p.target) : 0);
    }
    case PurgeKind::Key: {
      // The index in memory knows what this process stored; the disk records also know what an
      // earlier run stored (loaded into the index at start, but read again: it is cheap).
      std::vector<std::string> objects;
      if (fetch_ctx_.surrogates) objects = fetch_ctx_.surrogates->objects_with(p.target);
      if (disk) {
        auto more = disk->objects_with_tag(p.target);
        objects.insert(objects.end(), more.begin(), more.end());
        std::sort(objects.begin(), objects.end());
        objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
      }
      // The disk tier in batches: one write per few hundred objects, not one per object.
      size_t n = 0;
      for (const auto& key_text : objects) {
        cache::CacheKey k{key_text, cache::hash64(key_text)};
        inflight_.purge(key_text, false);
        if (p.soft) {
          n += memory->mark_stale(k) ? 1 : 0;
        } else {
          if (fetch_ctx_.surrogates) fetch_ctx_.surrogates->remove(key_text);
          n += memory->erase(k) ? 1 : 0;
        }
      }
      if (disk) n += p.soft ? disk->mark_stale_many(objects) : disk->erase_many(objects);
      return n;
    }
  }
  return 0;
}

}  // namespace cdn::proxy
