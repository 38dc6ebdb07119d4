#include "common/proxy/proxy_core.h"

#include <algorithm>

#include "common/cache/vary.h"
#include "common/proxy/blocking_reload.h"
#include "common/proxy/service_metrics.h"
#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::proxy {

ProxyCore::ProxyCore(ProxyOptions opts, cache::MemoryTier* memory, cache::DiskTier* disk, UpstreamSet* upstreams,
                     Phases* phases)
    : opts_(std::move(opts)), phases_(phases ? phases : &default_phases_) {
  opts_.key_excluded_params = without_hls_directives(std::move(opts_.key_excluded_params));
  fetch_ctx_.memory = memory;
  fetch_ctx_.disk = disk;
  fetch_ctx_.upstreams = upstreams;
  fetch_ctx_.inflight = &inflight_;
  fetch_ctx_.freshness = opts_.freshness;
  fetch_ctx_.via_name = opts_.via_name;
  fetch_ctx_.retries = opts_.retries;
  fetch_ctx_.unstored_window = opts_.unstored_window;
  fetch_ctx_.max_variants = opts_.max_variants;
  delivery_ctx_.cache_lock_ms = opts_.cache_lock_ms;
  delivery_ctx_.blocking_reload_ms = opts_.blocking_reload_ms;
  delivery_ctx_.via_name = opts_.via_name;
  delivery_ctx_.strip_surrogate_keys = opts_.strip_surrogate_keys;
  delivery_ctx_.phases = phases_;
  for (int i = 0; i < kLookupResults; ++i)
    delivery_ctx_.lookups[i] = &lookup_counter(Lookup(i), opts_.service_label);
  fetch_ctx_.service_label = opts_.service_label;
  pass_ctx_.upstreams = upstreams;
  pass_ctx_.phases = phases_;
  pass_ctx_.forward = &opts_.forward;
  pass_ctx_.via_name = opts_.via_name;
  pass_ctx_.strip_surrogate_keys = opts_.strip_surrogate_keys;
  pass_ctx_.max_body_bytes = opts_.max_body_bytes;
  pass_ctx_.invalidate = [this](std::string_view host, std::string_view path,
                                std::string_view query) {
    purge_one(key_for(host, path, query).text, false);
  };
}

cache::CacheKey ProxyCore::key_for(std::string_view host, std::string_view path, std::string_view query) const {
  return cache::make_key(host, path, query, opts_.key_excluded_params, opts_.key_prefix);
}

cache::CacheKey ProxyCore::variant_for(const http::Request& req,
                                       const cache::CacheKey& url_key) const {
  cache::ObjectRef index = fetch_ctx_.memory->get(url_key);
  if (!index || !cache::is_vary_index(index->meta)) return url_key;
  std::string names = cache::index_names(index->meta);
  return cache::variant_key(url_key, names,
                            cache::variant_id(names, cache::fields_of(req.headers)));
}

FetchRequest ProxyCore::fetch_request(const std::shared_ptr<http::Exchange>& exchange,
                                      const std::string& query, const cache::CacheKey& url_key,
                                      cache::ObjectRef stale) const {
  const http::Exchange& ex = *exchange;
  FetchRequest r;
  const auto& req = ex.request();
  r.url_key = url_key;
  r.request_headers = req.headers;
  r.no_store = opts_.honour_request_directives && request_directives(req).no_store;
  r.host = std::string(req.headers.get_or("host", req.host));
  r.path = req.path;
  r.path_and_query = query.empty() ? req.path : req.path + "?" + query;
  r.fields = forwarded_fields(req, opts_.forward, true);
  phases_->strip_consumed_fields(req, r.fields);
  r.has_authorization = r.fields.get("authorization") != nullptr;
  add_forwarding_fields(req, ex.client_ip(), ex.tls(), opts_.via_name, opts_.forward, r.fields);
  r.stale = std::move(stale);
  if (is_blocking_reload(query)) r.first_byte_ms = opts_.blocking_reload_ms;
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
    if (method_allowed(req.method, req.path, opts_.methods)) {
      std::make_shared<PassThrough>(&pass_ctx_, ex, rc)->start();  // RFC 9111 §2: not cached
      return;
    }
    http::Headers h{{"Allow", allowed_methods(req.path, opts_.methods)}};
    phases_->run_response_filter(*ex, *rc, h, false);
    ex->respond_error(405, "method-not-allowed", std::move(h));
    return;
  }
  const std::string& query = rc->upstream_query;
  cache::CacheKey url_key = key_for(req.host, req.path, query);
  cache::CacheKey key = variant_for(req, url_key);
  RequestDirectives directives = request_directives(req);

  if (cache::ObjectRef obj = fetch_ctx_.memory->get(key)) {
    switch (cache::classify(obj->meta, unix_now())) {
      case cache::Freshness::Fresh:
        // Honoured request directives validate a fresh object at most once per interval.
        if (opts_.honour_request_directives && !directives.only_if_cached &&
            wants_validation(directives, obj->meta, unix_now()) &&
            unix_now_ms() - obj->meta.response_time_ms >= opts_.revalidate_interval_ms) {
          join_fill(ex, rc, url_key, key, query, obj);
          return;
        }
        std::make_shared<Delivery>(ex, rc, &delivery_ctx_)->serve_object(obj, "HIT");
        return;
      case cache::Freshness::StaleRevalidate:
        std::make_shared<Delivery>(ex, rc, &delivery_ctx_)->serve_object(obj, "STALE");
        refresh_in_background(ex, url_key, key, query, obj);
        return;
      default:
        if (directives.only_if_cached) break;
        join_fill(ex, rc, url_key, key, query,
                  obj);  // revalidate; fall back on it within stale-if-error
        return;
    }
  }
  if (directives.only_if_cached) {
    only_if_cached(ex, rc, url_key, key, query);
    return;
  }
  join_fill(ex, rc, url_key, key, query, nullptr);
}

void ProxyCore::only_if_cached(const std::shared_ptr<http::Exchange>& ex,
                               const std::shared_ptr<RequestContext>& rc,
                               const cache::CacheKey& url_key, const cache::CacheKey& key,
                               const std::string& query) {
  // A memory entry here is one that may not answer (expired): the disk tier has nothing better.
  if (!fetch_ctx_.disk || fetch_ctx_.memory->get(key)) {
    http::Headers h;
    phases_->run_response_filter(*ex, *rc, h, false);
    ex->respond_error(504, "only-if-cached", std::move(h));
    return;
  }
  FetchRequest r = fetch_request(ex, query, url_key, nullptr);
  r.cache_only = true;
  auto fill = std::make_shared<Fill>(key);  // its own: a disk read, never an upstream request
  fill->set_single_request();
  std::make_shared<Delivery>(ex, rc, &delivery_ctx_)->follow(fill, true);
  std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), fill, std::move(r))->start();
}

void ProxyCore::join_fill(const std::shared_ptr<http::Exchange>& ex,
                          const std::shared_ptr<RequestContext>& rc, const cache::CacheKey& url_key,
                          const cache::CacheKey& key, const std::string& query,
                          cache::ObjectRef stale) {
  FetchRequest fetch = fetch_request(ex, query, url_key, std::move(stale));
  // RFC 9111 §3.5: what answers a request with credentials may be for its sender only, so such
  // a request neither joins another's fill nor lets others join its own.
  auto [fill, created] = fetch.has_authorization ? std::pair{std::make_shared<Fill>(key), true}
                                                 : inflight_.join_or_create(key);
  if (!created) {
    // A fill that ended but is still joinable (its disk write is landing) hands out what it
    // stored: only while that is fresh (RFC 9111 §4; a no-cache response is stale at once).
    cache::ObjectRef late = fill->late_object();
    if (late && cache::classify(late->meta, unix_now()) != cache::Freshness::Fresh) {
      fill = inflight_.replace(key);
      created = true;
    }
  }
  if (created) fill->set_range_reach(opts_.range_reach);
  if (fetch.has_authorization) fill->set_single_request();
  std::weak_ptr<http::Exchange> weak = ex;
  std::make_shared<Delivery>(ex, rc, &delivery_ctx_)
      ->follow(fill, created, [this, weak, url_key, key, query]() {
        auto e = weak.lock();
        return e && e->alive() ? fetch_alone(e, url_key, key, query) : nullptr;
      });
  if (created) {
    std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), fill, std::move(fetch))->start();
  }
}

std::shared_ptr<Fill> ProxyCore::fetch_alone(const std::shared_ptr<http::Exchange>& ex,
                                             const cache::CacheKey& url_key,
                                             const cache::CacheKey& key, const std::string& query) {
  FetchRequest r = fetch_request(ex, query, url_key, nullptr);
  const auto& req = ex->request();
  std::shared_ptr<Fill> fill;
  if (cache::CacheKey mine = variant_for(req, url_key);
      mine.text != key.text && !r.has_authorization) {
    // The fill answered another variant (RFC 9111 §4.1): this request's own is shared by those
    // that select it.
    auto [joined, created] = inflight_.join_or_create(mine);
    if (created) joined->set_range_reach(opts_.range_reach);
    if (created)
      std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), joined, std::move(r))->start();
    return joined;
  }
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

void ProxyCore::refresh_in_background(const std::shared_ptr<http::Exchange>& ex,
                                      const cache::CacheKey& url_key, const cache::CacheKey& key,
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
  std::make_shared<Fetcher>(&fetch_ctx_, ex->worker(), fill,
                            fetch_request(ex, query, url_key, std::move(stale)))
      ->start();
}

size_t ProxyCore::purge_one(const std::string& key_text, bool soft) {
  auto* memory = fetch_ctx_.memory;
  auto* disk = fetch_ctx_.disk;
  cache::CacheKey k{key_text, cache::hash64(key_text)};
  // The URL's variants (RFC 9111 §4.1) go with it.
  const std::string variants = key_text + cache::kVariantSeparator;
  inflight_.purge(key_text, false);  // a fill under way may hold the old version: not stored
  inflight_.purge(variants, true);
  size_t n = 0;
  if (soft) {
    n += memory->mark_stale(k) ? 1 : 0;
    if (disk) n += disk->mark_stale(key_text) ? 1 : 0;
    return n + memory->mark_stale_prefix(variants) + (disk ? disk->mark_stale_prefix(variants) : 0);
  }
  if (fetch_ctx_.surrogates) {
    fetch_ctx_.surrogates->remove(key_text);
    fetch_ctx_.surrogates->remove_prefix(variants);
  }
  n += memory->erase(k) ? 1 : 0;
  if (disk) n += disk->erase(key_text) ? 1 : 0;
  return n + memory->erase_prefix(variants) + (disk ? disk->erase_prefix(variants) : 0);
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
      if (!p.within.empty())
        std::erase_if(objects, [&](const std::string& k) { return !starts_with(k, p.within); });
      // Fills under way whose keys are not known yet (or are known to include this one) store
      // nothing: what they fetch may be the version being purged.
      inflight_.purge_tagged(p.target);
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
