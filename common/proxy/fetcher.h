#pragma once
// Runs one fill on the leader's loop: disk lookup, then upstream attempts in selection order
// (conditional when a stale copy exists), then storing what is cacheable. Retries go to the next
// server only while nothing has been passed to clients.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/cache/disk_tier.h"
#include "common/cache/freshness.h"
#include "common/cache/memory_tier.h"
#include "common/cache/surrogate_index.h"
#include "common/http/upstream_client.h"
#include "common/proxy/fill.h"
#include "common/proxy/upstream_set.h"

namespace cdn::obs {
class Counter;
}

namespace cdn::proxy {

struct FetchContext {
  cache::MemoryTier* memory = nullptr;
  cache::DiskTier* disk = nullptr;
  UpstreamSet* upstreams = nullptr;
  InflightTable* inflight = nullptr;
  cache::SurrogateIndex* surrogates = nullptr;  // may be null
  const std::atomic<uint64_t>* purge_seq = nullptr;  // fleet purges: sent as X-Purge-Seq
  cache::FreshnessPolicy freshness;
  std::string via_name;
  uint32_t retries = 1;
  // A fill that is not stored reads at most this far ahead of its slowest waiter.
  size_t unstored_window = 256 * 1024;
  size_t max_variants = 32;  // cache.max_variants: stored variants per URL
  std::string service_label;  // the delivery service's metric label (service_metrics.h)
};

struct FetchRequest {
  std::string host;          // Host header to send
  std::string path_and_query;  // upstream target
  std::string path;          // for default TTL rules
  // The client's end-to-end fields and this hop's Via / forwarding fields (forward_request.h),
  // in the order they are sent. For a shared fill, those of the request that started it.
  http::Headers fields;
  // RFC 9111 §3.5: the request carried Authorization upstream.
  bool has_authorization = false;
  // RFC 9111 §4.1: the URL's own key (the fill's may be a variant's) and the client's fields,
  // which select the variant a response with Vary is stored as.
  cache::CacheKey url_key;
  http::Headers request_headers;
  // RFC 9111 §5.2.1: only-if-cached (the disk tier or nothing) and an honoured no-store.
  bool cache_only = false;
  bool no_store = false;
  cache::ObjectRef stale;    // a stale copy to revalidate and to fall back on
  // A fetch of part of the object for one request (Range and If-Range as the client sent them):
  // no disk lookup, never stored, nobody else joins it.
  std::string range, if_range;
  int64_t first_byte_ms = 0;  // > 0: this fetch's upstream first-byte timeout (blocking_reload.h)
};

class Fetcher : public http::UpstreamCallbacks, public std::enable_shared_from_this<Fetcher> {
 public:
  Fetcher(const FetchContext* ctx, net::Worker* w, std::shared_ptr<Fill> fill, FetchRequest req);
  void start();

 private:
  void on_disk(cache::ObjectRef obj);
  void try_next();
  void give_up(const std::string& error);
  void complete_with(cache::ObjectRef obj, const std::string& status);
  void done();
  void store(const cache::ObjectRef& obj);
  // RFC 9111 §4.1: where a response with these headers is stored (its variant's key, the
  // URL's index updated), or false when the URL has its cap of variants.
  bool choose_store_key(const http::Headers& headers);
  void store_index(const cache::ObjectRef& index);
  void release_self();
  void on_upstream_head(int status, http::Headers&& headers) override;
  void on_upstream_interim(int status, http::Headers&& headers) override;
  void on_upstream_body(const Bytes& chunk) override;
  void on_upstream_end(bool complete, http::UpstreamError err) override;
  std::string request_head() const;
  void count(const std::string& status);
  // The body will not be stored: the fill follows its waiters (Fill says which ranges join it).
  void pace_unstored();
  void on_waiters_caught_up();

  const FetchContext* ctx_;
  net::Worker* worker_;
  std::shared_ptr<Fill> fill_;
  FetchRequest req_;
  std::vector<size_t> order_;
  size_t attempt_ = 0;
  size_t current_ = 0;
  uint64_t token_ = 0;  // the upstream request in flight
  bool upstream_paused_ = false;
  int64_t request_time_ms_ = 0;
  // Per-attempt state.
  bool discard_ = false;   // a 5xx we will retry elsewhere or answer with the stale copy
  bool streaming_ = false;
  int status_ = 0;
  http::Headers headers_;
  cache::StoreDecision decision_;
  Body body_;
  std::string last_error_;
  cache::ObjectRef revalidated_;   // set by a 304, stored once the exchange ends
  cache::CacheKey store_key_;      // the fill's key, or the variant's
  std::shared_ptr<Fetcher> self_;  // alive while a request is in flight
};

}  // namespace cdn::proxy
