#include "common/proxy/fetcher.h"

#include "common/cache/age.h"
#include "common/cache/surrogate_keys.h"
#include "common/cache/vary.h"
#include "common/obs/metrics.h"
#include "common/proxy/service_metrics.h"
#include "common/util/clock.h"
#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::proxy {

namespace {

std::vector<cache::StoredHeader> to_stored(const http::Headers& h) {
  std::vector<cache::StoredHeader> out;
  out.reserve(h.size());
  for (auto& x : h) out.push_back({x.name, x.value});
  return out;
}

// RFC 9111 §4.3.4: a 304 updates the stored headers it carries.
std::vector<cache::StoredHeader> merge_304(const std::vector<cache::StoredHeader>& stored, const http::Headers& fresh) {
  std::vector<cache::StoredHeader> out;
  for (auto& s : stored)
    if (!fresh.get(s.name) || iequals(s.name, "content-length")) out.push_back(s);
  for (auto& f : fresh)
    if (!iequals(f.name, "content-length")) out.push_back({f.name, f.value});
  return out;
}

cache::ObjectMeta build_meta(int status, std::vector<cache::StoredHeader> headers, const cache::StoreDecision& d,
                             int64_t request_ms, int64_t response_ms) {
  cache::ObjectMeta m;
  m.status = status;
  m.request_time_ms = request_ms;
  m.response_time_ms = response_ms;
  m.date_s = response_ms / 1000;
  for (auto& h : headers) {
    if (iequals(h.name, "date")) {
      int64_t d = parse_http_date(h.value);
      if (d >= 0) m.date_s = d;
    } else if (iequals(h.name, "etag")) {
      m.etag = h.value;
    } else if (iequals(h.name, "last-modified")) {
      m.last_modified = h.value;
    }
  }
  m.age_s = cache::parse_age(headers);
  std::erase_if(headers, [&](const cache::StoredHeader& h) {
    for (const auto& f : d.omit_fields)
      if (iequals(h.name, f)) return true;
    return false;
  });
  m.fresh_lifetime_s = d.fresh_lifetime_s;
  m.stale_while_revalidate_s = d.swr_s;
  m.stale_if_error_s = d.sie_s;
  m.must_revalidate = d.must_revalidate;
  m.headers = std::move(headers);
  return m;
}

obs::Counter& variants_counter(const char* result) {
  return obs::metrics().counter(
      "cdn_cache_variants_total",
      "Responses with Vary by what the cache did: stored as a variant, or passed on "
      "unstored because the URL has cache.max_variants already",
      {{"result", result}});
}

}  // namespace

Fetcher::Fetcher(const FetchContext* ctx, net::Worker* w, std::shared_ptr<Fill> fill,
                 FetchRequest req)
    : ctx_(ctx),
      worker_(w),
      fill_(std::move(fill)),
      req_(std::move(req)),
      store_key_(fill_->key()) {}

void Fetcher::start() {
  self_ = shared_from_this();
  if (ctx_->disk && !req_.stale && req_.range.empty()) {
    auto self = self_;
    net::Worker* w = worker_;
    ctx_->disk->get_async(fill_->key().text, [self, w](cache::ObjectRef obj) {
      // Back to the loop that owns this fetch; the read itself ran on the disk pool.
      if (!w->post([self, obj]() { self->on_disk(obj); })) self->fill_->fail("shutting-down");
    });
    return;
  }
  try_next();
}

void Fetcher::on_disk(cache::ObjectRef obj) {
  if (obj && cache::is_vary_index(obj->meta)) {
    // RFC 9111 §4.1: the URL varies; its variant for this request is stored under its own key.
    cache::CacheKey vk = cache::variant_key(
        req_.url_key, cache::index_names(obj->meta),
        cache::variant_id(cache::index_names(obj->meta), cache::fields_of(req_.request_headers)));
    if (vk.text == store_key_.text) {
      try_next();
      return;
    }
    store_key_ = vk;
    fill_->set_variant_key(vk.text);
    auto self = self_;
    net::Worker* w = worker_;
    ctx_->disk->get_async(vk.text, [self, w](cache::ObjectRef o) {
      if (!w->post([self, o]() { self->on_disk(o); })) self->fill_->fail("shutting-down");
    });
    return;
  }
  if (obj) {
    auto f = cache::classify(obj->meta, unix_now());
    if (f == cache::Freshness::Fresh) {
      // A body left on disk (too large to load) is served from there, not promoted.
      if (obj->body_resident())
        fill_->insert_unless_purged([&] { ctx_->memory->put(store_key_, obj); });  // promote
      complete_with(obj, "HIT");
      return;
    }
    // Revalidating needs the body in hand (a 304 re-stores it): a stale copy left on disk is
    // fetched again instead.
    if (obj->body_resident()) req_.stale = obj;
  }
  try_next();
}

std::string Fetcher::request_head() const {
  std::string h;
  h.reserve(256);
  h += "GET ";
  h += req_.path_and_query;
  h += " HTTP/1.1\r\nHost: ";
  h += req_.host;
  for (const auto& f : req_.fields) {
    h += "\r\n";
    h += f.name;
    h += ": ";
    h += f.value;
  }
  if (ctx_->purge_seq) {
    // The upstream tier applies the purges we have before answering (fleet_purge.h).
    h += "\r\nX-Purge-Seq: ";
    h += std::to_string(ctx_->purge_seq->load(std::memory_order_relaxed));
  }
  if (!req_.range.empty()) {
    h += "\r\nRange: ";
    h += req_.range;
    if (!req_.if_range.empty()) {
      h += "\r\nIf-Range: ";
      h += req_.if_range;
    }
  }
  if (req_.stale) {
    if (!req_.stale->meta.etag.empty()) {
      h += "\r\nIf-None-Match: ";
      h += req_.stale->meta.etag;
    } else if (!req_.stale->meta.last_modified.empty()) {
      h += "\r\nIf-Modified-Since: ";
      h += req_.stale->meta.last_modified;
    }
  }
  h += "\r\n\r\n";
  return h;
}

void Fetcher::count(const std::string& status) {
  obs::metrics()
      .counter("cdn_upstream_requests_total",
               "Requests sent upstream, by server and status or error",
               with_service({{"upstream", ctx_->upstreams->name(current_)}, {"status", status}},
                            ctx_->service_label))
      .inc();
}

void Fetcher::try_next() {
  if (req_.cache_only) {
    fill_->fail("only-if-cached");
    done();
    return;
  }
  if (order_.empty()) ctx_->upstreams->order(fill_->key().text, order_);
  size_t limit = std::min<size_t>(order_.size(), size_t(ctx_->retries) + 1);
  if (attempt_ >= limit) {
    give_up(last_error_.empty() ? "upstream-unavailable" : last_error_);
    return;
  }
  current_ = order_[attempt_++];
  discard_ = streaming_ = false;
  status_ = 0;
  headers_.clear();
  body_ = Body();
  request_time_ms_ = unix_now_ms();
  upstream_paused_ = false;
  token_ = ctx_->upstreams->pool(*worker_, current_).send(request_head(), false, this, true, req_.first_byte_ms);
}

void Fetcher::on_upstream_head(int status, http::Headers&& headers) {
  count(std::to_string(status));
  status_ = status;
  int64_t now_ms = unix_now_ms();
  if (status >= 500) {
    ctx_->upstreams->report(current_, false);
    size_t limit = std::min<size_t>(order_.size(), size_t(ctx_->retries) + 1);
    bool stale_ok = req_.stale && cache::classify(req_.stale->meta, unix_now()) != cache::Freshness::Expired;
    if (attempt_ < limit || stale_ok) {
      discard_ = true;
      last_error_ = "upstream-status-" + std::to_string(status);
      return;
    }
  } else {
    ctx_->upstreams->report(current_, true);
  }
  http::strip_hop_by_hop(headers);
  headers.remove(
      "cdn-vary-index");  // the cache's own bookkeeping fields (vary.h) are not an origin's to set
  headers.remove("cdn-vary-variants");
  if (status == 304 && req_.stale) {
    discard_ = true;
    auto merged = merge_304(req_.stale->meta.headers, headers);
    auto d = cache::decide_store("GET", req_.path, req_.stale->meta.status, merged,
                                 req_.has_authorization, ctx_->freshness, now_ms / 1000);
    auto obj = std::make_shared<cache::CachedObject>();
    obj->key_text = req_.stale->key_text;  // the variant that was revalidated
    obj->meta = build_meta(req_.stale->meta.status, std::move(merged), d, request_time_ms_, now_ms);
    obj->body = req_.stale->body;  // shared blocks, not copied
    obj->meta.body_size = obj->body.size;
    revalidated_ = obj;
    return;
  }
  decision_ = cache::decide_store("GET", req_.path, status, to_stored(headers),
                                  req_.has_authorization, ctx_->freshness, now_ms / 1000);
  if (!req_.range.empty()) decision_.store = false;  // part of an object, for one request
  if (req_.no_store) decision_.store = false;        // RFC 9111 §5.2.1.5, when honoured
  if (decision_.store && !choose_store_key(headers)) decision_.store = false;
  int64_t content_length = -1;
  if (auto* cl = headers.get("content-length")) content_length = parse_int(*cl).value_or(-1);
  headers_ = headers;
  // RFC 9111 §4.2.3: what goes on is as old as this cache estimates (corrected_initial_age), the
  // upstream's time to answer included; what is stored keeps the Age it came with.
  cache::ObjectMeta arrival;
  arrival.age_s = cache::parse_age(to_stored(headers));
  int64_t date_s = parse_http_date(headers.get_or("date"));
  arrival.date_s = date_s >= 0 ? date_s : now_ms / 1000;
  arrival.request_time_ms = request_time_ms_;
  arrival.response_time_ms = now_ms;
  headers.set("Age", std::to_string(cache::corrected_initial_age_ms(arrival) / 1000));
  streaming_ = true;
  if (!decision_.store) pace_unstored();
  fill_->start_streaming(status, std::move(headers), content_length, "MISS");
}

void Fetcher::on_upstream_interim(int status, http::Headers&& headers) {
  http::strip_hop_by_hop(headers);
  fill_->add_interim(status, std::move(headers));  // RFC 9110 §15.2: to every waiter
}

void Fetcher::pace_unstored() {
  // The fill stays in the table: a later request joins it when the bytes it wants are still
  // held or about to come (Fill::add_waiter), and fetches on its own otherwise.
  std::weak_ptr<Fetcher> weak = weak_from_this();
  fill_->pace(worker_, ctx_->unstored_window, [weak]() {
    if (auto self = weak.lock()) self->on_waiters_caught_up();
  });
}

void Fetcher::on_upstream_body(const Bytes& chunk) {
  if (discard_ || !streaming_) return;
  bool go_on = fill_->append(chunk);
  if (decision_.store) {
    // A body without Content-Length that outgrows cache.max_object_size is passed on, not kept:
    // from here on the fill is paced like any other unstored response.
    const uint64_t max = ctx_->freshness.max_object_size;
    if (max == 0 || body_.size + chunk->size() <= max) {
      body_.append(chunk);
      return;
    }
    decision_.store = false;
    body_ = Body();
    pace_unstored();
    return;
  }
  if (!go_on && !upstream_paused_) {
    upstream_paused_ = true;
    ctx_->upstreams->pool(*worker_, current_).pause(token_);
  }
}

void Fetcher::on_waiters_caught_up() {
  if (!self_ || !streaming_) return;  // the exchange already ended
  auto& pool = ctx_->upstreams->pool(*worker_, current_);
  if (fill_->abandoned()) {
    // Every viewer left a body nobody stores: stop fetching it.
    pool.cancel(token_);
    // Only a request that joined after everyone left can see this: it fetches on its own.
    fill_->fail("fill-not-joinable");
    done();
    return;
  }
  if (upstream_paused_) {
    upstream_paused_ = false;
    pool.resume(token_);
  }
}

void Fetcher::on_upstream_end(bool complete, http::UpstreamError err) {
  if (revalidated_) {
    if (complete) {
      auto obj = std::move(revalidated_);
      fill_->finish_with_object(obj, "REVALIDATED");
      if (!fill_->purged()) {
        store(obj);
      } else {
        done();
      }
      return;
    }
    revalidated_.reset();
    last_error_ = "upstream-unavailable";
    try_next();
    return;
  }
  if (discard_) {
    try_next();
    return;
  }
  if (!streaming_) {
    count(http::to_string(err));
    ctx_->upstreams->report(current_, false);
    last_error_ = (err == http::UpstreamError::FirstByteTimeout || err == http::UpstreamError::ConnectTimeout)
                      ? "upstream-timeout"
                  : err == http::UpstreamError::Tls ? "upstream-tls-failed"
                                                    : "upstream-unavailable";
    try_next();
    return;
  }
  if (!complete) {
    // A stall (no bytes for timeouts.upstream_idle) fails every waiter, as a truncation does.
    fill_->fail(err == http::UpstreamError::IdleTimeout ? "upstream-idle-timeout" : "upstream-truncated");
    done();
    return;
  }
  if (decision_.store && !fill_->purged()) {
    auto obj = std::make_shared<cache::CachedObject>();
    obj->key_text = store_key_.text;
    obj->meta = build_meta(status_, to_stored(headers_), decision_, request_time_ms_, unix_now_ms());
    obj->body = std::move(body_);
    obj->meta.body_size = obj->body.size;
    fill_->finish(obj);
    store(obj);
    return;
  }
  if (req_.stale && !decision_.store) {
    // The new response may not be stored: the old copy must not outlive it either.
    ctx_->memory->erase(fill_->key());
    if (ctx_->disk) ctx_->disk->erase_async(fill_->key().text);
  }
  fill_->finish();
  done();
}

bool Fetcher::choose_store_key(const http::Headers& headers) {
  std::vector<cache::StoredHeader> stored = to_stored(headers);
  std::string names = cache::vary_names(stored);
  if (names.empty()) return true;
  std::string id = cache::variant_id(names, cache::fields_of(req_.request_headers));
  std::vector<std::string> variants;
  if (cache::ObjectRef index = ctx_->memory->get(req_.url_key);
      index && cache::is_vary_index(index->meta) && cache::index_names(index->meta) == names)
    variants = cache::index_variants(index->meta);
  if (std::find(variants.begin(), variants.end(), id) == variants.end()) {
    if (variants.size() >= ctx_->max_variants) {
      variants_counter("over_cap").inc();
      return false;
    }
    variants.push_back(id);
  }
  variants_counter("stored").inc();
  store_key_ = cache::variant_key(req_.url_key, names, id);
  fill_->set_variant_key(store_key_.text);
  // Kept as long as the variant may be used; a later variant's store renews it.
  int64_t keep = decision_.fresh_lifetime_s + decision_.swr_s + decision_.sie_s;
  store_index(cache::make_vary_index(req_.url_key.text, names, variants, std::max<int64_t>(keep, 1),
                                     unix_now_ms()));
  return true;
}

void Fetcher::store_index(const cache::ObjectRef& index) {
  // Before the head goes to waiters: one whose fields select another variant looks it up again.
  fill_->insert_unless_purged([&] { ctx_->memory->put(req_.url_key, index); });
  if (ctx_->disk) ctx_->disk->put_async(index, [] {});
}

void Fetcher::store(const cache::ObjectRef& obj) {
  cache::CacheKey key{obj->key_text, cache::hash64(obj->key_text)};
  fill_->insert_unless_purged([&] {
    // Indexed with the insert, so a purge by key that misses the insert also finds no entry.
    if (ctx_->surrogates) ctx_->surrogates->set(obj->key_text, cache::surrogate_keys(obj->meta.headers));
    ctx_->memory->put(key, obj);
  });
  if (!ctx_->disk) {
    done();
    return;
  }
  // The fill stays joinable until the disk write has landed: late joiners get the object (even
  // one too large for memory) and a purge in that window can still reach it. A purge that raced
  // with the write deletes what the write brought back.
  auto fill = fill_;
  InflightTable* inflight = ctx_->inflight;
  cache::DiskTier* disk = ctx_->disk;
  disk->put_async(obj, [fill, inflight, disk, key_text = obj->key_text]() {
    if (fill->purged()) disk->erase(key_text);
    inflight->remove(fill->key(), fill.get());
  });
  release_self();
}

void Fetcher::give_up(const std::string& error) {
  if (req_.stale && cache::classify(req_.stale->meta, unix_now()) != cache::Freshness::Expired) {
    complete_with(req_.stale, "STALE");  // stale-if-error (RFC 5861)
    return;
  }
  fill_->fail(error);
  done();
}

void Fetcher::complete_with(cache::ObjectRef obj, const std::string& status) {
  fill_->finish_with_object(std::move(obj), status);
  done();
}

void Fetcher::done() {
  ctx_->inflight->remove(fill_->key(), fill_.get());
  release_self();
}

void Fetcher::release_self() {
  // Released on the next loop turn: we may be inside our own upstream callback.
  if (self_) worker_->post([s = std::move(self_)]() {});
}

}  // namespace cdn::proxy
