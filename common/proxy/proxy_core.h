#pragma once
// The caching proxy shared by edge and shield: request filter → key → memory → fill (disk, then
// upstream) → response filter → store. Tier programs differ only in their Phases and config.
#include <memory>
#include <string>
#include <vector>

#include "common/cache/disk_tier.h"
#include "common/cache/freshness.h"
#include "common/cache/key.h"
#include "common/cache/memory_tier.h"
#include "common/http/server_connection.h"
#include "common/proxy/delivery.h"
#include "common/proxy/fetcher.h"
#include "common/proxy/fill.h"
#include "common/proxy/forward_request.h"
#include "common/proxy/method_rules.h"
#include "common/proxy/pass_through.h"
#include "common/proxy/phases.h"
#include "common/proxy/request_directives.h"
#include "common/proxy/purge_spec.h"
#include "common/proxy/upstream_set.h"

namespace cdn::proxy {

struct ProxyOptions {
  std::string via_name;
  // The delivery service: its cache key prefix (cache::key_prefix_of) and its metric label
  // (service_metrics.h); both empty for the implicit service.
  std::string key_prefix;
  std::string service_label;
  std::vector<std::string> key_excluded_params;  // besides whatever Phases::upstream_query drops
  cache::FreshnessPolicy freshness;
  ForwardPolicy forward;
  std::vector<MethodRule> methods;    // see method_rules.h
  uint64_t max_body_bytes = 1 << 20;  // a passed request's body (limits.max_body_bytes)
  // proxy.request_directives: honour, proxy.revalidate_interval (request_directives.h).
  bool honour_request_directives = false;
  int64_t revalidate_interval_ms = 1000;
  uint32_t retries = 1;
  int64_t cache_lock_ms = 15'000;      // see DeliveryContext
  int64_t blocking_reload_ms = 30'000;  // see blocking_reload.h
  size_t unstored_window = 256 * 1024;  // see FetchContext
  size_t max_variants = 32;             // see FetchContext
  uint64_t range_reach = 8ull << 20;    // see Fill::set_range_reach
  // Surrogate-Key and Cache-Tag are dropped from responses: true on the tier viewers talk to;
  // a shield keeps them for its edges (purge.strip_surrogate_keys).
  bool strip_surrogate_keys = true;
};

class ProxyCore : public http::RequestHandler {
 public:
  ProxyCore(ProxyOptions opts, cache::MemoryTier* memory, cache::DiskTier* disk, UpstreamSet* upstreams,
            Phases* phases);
  void handle(const std::shared_ptr<http::Exchange>& ex) override;
  // The pipeline after the request filter; `rc` is the request's phase context.
  void lookup(const std::shared_ptr<http::Exchange>& ex, const std::shared_ptr<RequestContext>& rc);

  // Purge by exact key text, key-text prefix or surrogate key, hard (the entries go) or soft (they
  // are marked stale); returns how many entries were purged (memory + disk). Blocks on the disk
  // tier: call it off the event loops.
  size_t purge(const LocalPurge& p);
  // Fills under way that may carry surrogate key `key` store nothing (a purge by key that another
  // service's core ran on the shared caches).
  void stop_fills_tagged(const std::string& key) { inflight_.purge_tagged(key); }
  // The surrogate-key index the fills record into (may be null: no purge by key).
  void set_surrogate_index(cache::SurrogateIndex* index) { fetch_ctx_.surrogates = index; }
  // Fleet purges (fleet_purge.h): the number of the last purge applied here, sent upstream with
  // every fill; and on a shield, the barrier a request naming a later purge waits at (true: it
  // waits, and `resume` is posted to the worker once the purge is applied here).
  using PurgeBarrier = std::function<bool(uint64_t seq, net::Worker* w, std::function<void()> resume)>;
  void set_purge_seq(const std::atomic<uint64_t>* seq) { fetch_ctx_.purge_seq = seq; }
  void set_purge_barrier(PurgeBarrier b) { purge_barrier_ = std::move(b); }
  cache::CacheKey key_for(std::string_view host, std::string_view path, std::string_view query) const;
  const std::string& key_prefix() const { return opts_.key_prefix; }
  const InflightTable& inflight() const { return inflight_; }

 private:
  void run_request(const std::shared_ptr<http::Exchange>& ex);
  // `url_key`: the URL's own key; `key`: the fill's, a variant's when the URL varies (vary.h).
  void join_fill(const std::shared_ptr<http::Exchange>& ex,
                 const std::shared_ptr<RequestContext>& rc, const cache::CacheKey& url_key,
                 const cache::CacheKey& key, const std::string& query, cache::ObjectRef stale);
  // The key this request's response is stored under: the URL's, or its variant's when the
  // memory tier holds the URL's vary index.
  cache::CacheKey variant_for(const http::Request& req, const cache::CacheKey& url_key) const;
  // A fetch of this request's own, when the running fill cannot serve it (Fill's range rule): a
  // range asks the upstream for its bytes only; a whole request starts the fill later ones join.
  std::shared_ptr<Fill> fetch_alone(const std::shared_ptr<http::Exchange>& ex,
                                    const cache::CacheKey& url_key, const cache::CacheKey& key,
                                    const std::string& query);
  void refresh_in_background(const std::shared_ptr<http::Exchange>& ex,
                             const cache::CacheKey& url_key, const cache::CacheKey& key,
                             const std::string& query, cache::ObjectRef stale);
  // RFC 9111 §5.2.1.7: answered from what is stored (memory or disk) or 504, never upstream.
  void only_if_cached(const std::shared_ptr<http::Exchange>& ex,
                      const std::shared_ptr<RequestContext>& rc, const cache::CacheKey& url_key,
                      const cache::CacheKey& key, const std::string& query);
  FetchRequest fetch_request(const std::shared_ptr<http::Exchange>& ex, const std::string& query,
                             const cache::CacheKey& url_key, cache::ObjectRef stale) const;
  size_t purge_one(const std::string& key_text, bool soft);

  ProxyOptions opts_;
  Phases* phases_;
  DefaultPhases default_phases_;
  InflightTable inflight_;
  FetchContext fetch_ctx_;
  DeliveryContext delivery_ctx_;
  PassContext pass_ctx_;
  PurgeBarrier purge_barrier_;
};

}  // namespace cdn::proxy
