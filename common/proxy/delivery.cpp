#include "common/proxy/delivery.h"

#include "common/cache/freshness.h"
#include "common/cache/vary.h"
#include "common/http/range.h"
#include "common/obs/metrics.h"
#include "common/proxy/disk_body_stream.h"
#include "common/proxy/phases.h"
#include "common/proxy/response_headers.h"
#include "common/util/clock.h"
#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::proxy {

namespace {

// A sub-range of a body; blocks wholly inside the range are shared, partial ones copied.
Body slice(const Body& body, uint64_t first, uint64_t last) {
  Body out;
  uint64_t pos = 0;
  for (auto& c : body.chunks) {
    uint64_t begin = pos, end = pos + c->size();  // [begin, end)
    pos = end;
    if (end <= first || begin > last) continue;
    uint64_t from = std::max(first, begin) - begin;
    uint64_t to = std::min(last + 1, end) - begin;
    if (from == 0 && to == c->size()) {
      out.append(c);
    } else {
      out.append(make_bytes(std::string_view(c->data() + from, to - from)));
    }
  }
  return out;
}

// The first body byte a request needs, when it can say so before the object's size and
// validators are known: a single `bytes=N-[M]` range without If-Range. Anything else (no range,
// a suffix range, If-Range that may turn it into a whole 200) needs the body from byte 0.
uint64_t first_byte_wanted(const http::Request& req) {
  const std::string* range = req.headers.get("range");
  if (req.method != "GET" || !range || req.headers.get("if-range")) return 0;
  std::string_view spec = trim(*range);
  if (!starts_with(spec, "bytes=") || starts_with(trim(spec.substr(6)), "-")) return 0;
  http::ByteRange r;
  return http::parse_range(spec, UINT64_MAX, r) == http::RangeResult::Satisfiable ? r.first : 0;
}

}  // namespace

void Delivery::count_lookup(std::string_view cache_status) {
  // Once per response, whichever path answers it.
  if (counted_) return;
  counted_ = true;
  // The service's four counters were looked up once, when its core was built.
  static const char* kNames[4] = {"HIT", "MISS", "STALE", "REVALIDATED"};
  for (int i = 0; i < 4; ++i) {
    if (cache_status != kNames[i]) continue;
    if (ctx_->lookups[i]) ctx_->lookups[i]->inc();
    return;
  }
}

bool Delivery::filter_response(http::Headers& h, bool body_transformable) {
  if (!ctx_->phases) return false;
  return ctx_->phases->run_response_filter(*ex_, *rc_, h, body_transformable) ==
         Phases::Body::Transform;
}

void Delivery::serve_object(const cache::ObjectRef& obj, std::string_view cache_status) {
  auto& ex = *ex_;
  if (!ex.alive()) return;
  const auto& meta = obj->meta;
  ex.log.cache = std::string(cache_status);
  count_lookup(cache_status);
  int64_t age = cache::current_age_s_at_ms(meta, unix_now_ms());
  http::Headers h = client_headers(meta.headers, age, cache_status, ctx_->via_name, ctx_->strip_surrogate_keys);
  bool transform = filter_response(h, meta.status == 200);
  send_object(obj, std::move(h), transform);
}

void Delivery::send_object(const cache::ObjectRef& obj, http::Headers h, bool transform) {
  auto& ex = *ex_;
  const auto& meta = obj->meta;
  if (not_modified(ex.request(), meta)) {
    ex.respond(304, std::move(h), std::string_view());
    return;
  }
  const Body* body = &obj->body;
  Body transformed;
  if (transform) {
    if (!obj->body_resident()) {  // rewritten bodies (playlists) are small; this one is not
      ex.respond_error(502, "body-too-large-to-rewrite", std::move(h));
      return;
    }
    transformed.append(make_bytes(ctx_->phases->run_transform_body(ex, *rc_, obj->body.flatten())));
    body = &transformed;
    h.remove("etag");  // the bytes differ per viewer
  }
  const uint64_t size = obj->body_resident() ? body->size : meta.body_size;
  http::RangePlan plan;
  if (meta.status == 200) {
    // A rewritten body has no validator of its own: If-Range can only ever miss it (full 200).
    http::Validators v;
    // Only If-Range reads them: most hits skip a copy of the ETag and a date parse.
    if (body == &obj->body && ex.request().headers.get("if-range")) {
      v.etag = meta.etag;
      v.last_modified_s = meta.last_modified.empty() ? -1 : parse_http_date(meta.last_modified);
      v.date_s = meta.date_s;
    }
    plan = http::plan_range(ex.request(), size, v);
  }
  if (plan.kind == http::RangePlan::Kind::Unsatisfiable) {
    h.set("Content-Range", http::content_range(plan, size));
    ex.log.reason = "range-not-satisfiable";
    ex.respond(416, std::move(h), std::string_view());
    return;
  }
  const bool partial = plan.kind == http::RangePlan::Kind::Partial;
  if (partial) h.set("Content-Range", http::content_range(plan, size));
  if (!obj->body_resident()) {
    // Too large to have been loaded: streamed from the disk tier a chunk at a time, as the
    // connection drains.
    const uint64_t first = partial ? plan.range.first : 0,
                   length = partial ? plan.range.length() : size;
    if (!ex.start(partial ? 206 : meta.status, std::move(h), int64_t(length))) return;
    if (length == 0 || ex.request().is_head()) return ex.finish();
    DiskBodyStream::run(ex_, obj->on_disk, first, first + length - 1);
    return;
  }
  if (partial) {
    ex.respond(206, std::move(h), slice(*body, plan.range.first, plan.range.last));
    return;
  }
  // A whole object is queued at once: its blocks are shared with the cache, so a slow client
  // holds references, not copies (and TLS encrypts them only as its socket drains).
  ex.respond(meta.status, std::move(h), *body);
}

void Delivery::follow(std::shared_ptr<Fill> fill, bool leader, Refetch refetch) {
  fill_ = std::move(fill);
  refetch_ = std::move(refetch);
  add_waiter();
  std::weak_ptr<Delivery> weak = shared_from_this();
  // The waiter holds only a weak reference; the exchange's abort hook keeps us alive meanwhile.
  auto self = shared_from_this();
  ex_->on_abort([self]() { self->detach(); });
  ex_->on_proceed([weak]() {
    if (auto s = weak.lock()) s->on_wake();
  });
  if (is_blocking_reload(rc_->upstream_query)) parked_.park();
  if (!leader) arm_lock_timeout();
  on_wake();
}

void Delivery::add_waiter() {
  std::weak_ptr<Delivery> weak = shared_from_this();
  waiter_ = fill_->add_waiter(
      ex_->worker(),
      [weak]() {
        if (auto self = weak.lock()) self->on_wake();
      },
      first_byte_wanted(ex_->request()));
}

bool Delivery::selects_variant() const {
  std::string variant = fill_->variant_key();
  if (variant.empty()) return true;
  const auto& req = ex_->request();
  return cache::variant_matches(variant, cache::fields_of(req.headers));
}

bool Delivery::refollow() {
  if (!refetch_) return false;
  auto fill = std::exchange(refetch_, nullptr)();  // once: its own fetch always serves it
  if (!fill) return false;
  fill_->remove_waiter(waiter_);
  lock_timer_.close();  // it leads its own fetch now
  fill_ = std::move(fill);
  add_waiter();
  return true;
}

void Delivery::arm_lock_timeout() {
  if (uv_timer_init(ex_->worker()->loop(), lock_timer_.get()) != 0) return;
  lock_timer_.mark_initialized();
  lock_timer_->data = this;
  uv_timer_start(
      lock_timer_.get(),
      [](uv_timer_t* t) {
        if (t->data) static_cast<Delivery*>(t->data)->on_lock_timeout();
      },
      uint64_t(std::max<int64_t>(first_byte_wait_ms(rc_->upstream_query, ctx_->cache_lock_ms,
                                                    ctx_->blocking_reload_ms),
                                 1)),
      0);
}

void Delivery::on_lock_timeout() {
  if (!waiter_ || head_seen_) return;
  auto keep = shared_from_this();
  auto& ex = *ex_;
  if (ex.alive() && !ex.started()) {
    http::Headers h;
    filter_response(h, false);
    ex.respond_error(504, "cache-lock-timeout", std::move(h));
  }
  detach();
}

void Delivery::detach() {
  if (waiter_ && fill_) fill_->remove_waiter(waiter_);
  waiter_.reset();
  lock_timer_.close();
  parked_.leave();
  ex_->on_proceed(nullptr);
  ex_->on_abort(nullptr);  // drops the self-reference held by the hook
}

bool Delivery::on_head(const Fill::View& v) {
  head_seen_ = true;
  lock_timer_.close();
  parked_.leave();
  auto& ex = *ex_;
  ex.log.cache = v.cache_status;
  count_lookup(v.cache_status);
  // A fresh fetch is as old as the upstream says it is (its own cache's Age).
  int64_t age = parse_int(v.headers->get_or("age", "0")).value_or(0);
  http::Headers h = client_headers(*v.headers, age, v.cache_status, ctx_->via_name, ctx_->strip_surrogate_keys);
  transform_ = filter_response(h, v.status == 200);
  if (transform_) buffer_all_ = true;
  if (!buffer_all_ && v.status == 200 && ex.request().headers.get("range")) {
    // The range is answered as its bytes arrive; without a length it waits for the whole body.
    if (v.content_length < 0) {
      buffer_all_ = true;
    } else {
      const uint64_t size = uint64_t(v.content_length);
      const std::string* lm = v.headers->get("last-modified");
      const std::string* date = v.headers->get("date");
      auto plan = http::plan_range(ex.request(), size,
                                   {v.headers->get_or("etag"), lm ? parse_http_date(*lm) : -1,
                                    date ? parse_http_date(*date) : -1});
      if (plan.kind == http::RangePlan::Kind::Unsatisfiable) {
        h.set("Content-Range", http::content_range(plan, size));
        ex.log.reason = "range-not-satisfiable";
        ex.respond(416, std::move(h), std::string_view());
        return false;
      }
      if (plan.kind == http::RangePlan::Kind::Partial) {
        h.set("Content-Range", http::content_range(plan, size));
        windowed_ = true;
        win_first_ = plan.range.first;
        win_last_ = plan.range.last;
        ex.start(206, std::move(h), int64_t(plan.range.length()));
        return true;
      }
    }
  }
  if (buffer_all_) {
    head_ = std::move(h);
    return true;
  }
  ex.start(v.status, std::move(h), v.content_length);
  return true;
}

void Delivery::write_window(const Bytes& chunk) {
  const uint64_t begin = seen_, end = seen_ + chunk->size();  // [begin, end) of the body
  seen_ = end;
  if (end <= win_first_ || begin > win_last_) return;
  const uint64_t from = std::max(win_first_, begin) - begin,
                 to = std::min(win_last_ + 1, end) - begin;
  ex_->write(from == 0 && to == chunk->size()
                 ? chunk
                 : make_bytes(std::string_view(*chunk).substr(from, to - from)));
}

void Delivery::on_wake() {
  if (!waiter_) return;
  auto keep = shared_from_this();
  while (pump()) {
  }
}

bool Delivery::pump() {
  if (!waiter_) return false;
  auto& ex = *ex_;
  if (!ex.alive()) {
    detach();
    return false;
  }
  size_t budget = SIZE_MAX;
  if (ex.started() && !buffer_all_) {
    // Offer only what keeps the connection under its high-water mark; proceed() brings us back.
    budget = ex.write_room();
    if (budget == 0) return false;
  }
  Fill::View v;
  fill_->read(*waiter_, v, budget);
  for (const auto& i : v.interim) ex.send_interim(i.status, i.headers);  // none once started
  if (!head_seen_ && (v.state == Fill::State::Streaming || v.state == Fill::State::Done) &&
      !selects_variant() && refollow())
    return true;  // RFC 9111 §4.1: the response is another variant than this request's
  switch (v.state) {
    case Fill::State::Pending: return false;
    case Fill::State::Failed:
      if (v.error == "fill-not-joinable" && !head_seen_ && !ex.started() && refollow()) return true;
      if (ex.started()) {
        if (ex.log.reason.empty()) ex.log.reason = v.error;
        ex.abort();
      } else {
        http::Headers h;
        filter_response(h, false);
        // RFC 9111 §5.2.1.7: only-if-cached with nothing stored to answer is a 504.
        ex.respond_error(v.error == "upstream-timeout" || v.error == "only-if-cached" ? 504 : 502,
                         v.error, std::move(h));
      }
      detach();
      return false;
    case Fill::State::Done:
      if (v.object && !head_seen_) {
        detach();
        serve_object(v.object, v.cache_status);
        return false;
      }
      [[fallthrough]];
    case Fill::State::Streaming: break;
  }
  if (!head_seen_ && !on_head(v)) {
    detach();
    return false;
  }
  bool last = v.state == Fill::State::Done && !v.more;
  if (buffer_all_) {
    if (!v.new_chunks.empty() && v.offset != buffered_.size) {
      // A range of a body to rewrite joined a paced fill past its start: it cannot be rewritten.
      http::Headers h;
      filter_response(h, false);
      ex.respond_error(502, "fill-not-joinable", std::move(h));
      detach();
      return false;
    }
    for (auto& c : v.new_chunks) buffered_.append(c);
    if (!last) return v.more;
    // Serve the gathered body like a cached object (ranges, transforms).
    auto obj = std::make_shared<cache::CachedObject>();
    obj->meta.status = v.status;
    for (auto& hd : *v.headers) obj->meta.headers.push_back({hd.name, hd.value});
    obj->meta.response_time_ms = unix_now_ms();
    obj->meta.request_time_ms = obj->meta.response_time_ms;
    obj->meta.date_s = unix_now();
    // Validators for If-Range on a range of unknown length, answered from the gathered body.
    obj->meta.etag = std::string(v.headers->get_or("etag"));
    obj->meta.last_modified = std::string(v.headers->get_or("last-modified"));
    obj->body = std::move(buffered_);
    obj->meta.body_size = obj->body.size;
    detach();
    send_object(obj, std::move(head_), transform_);
    return false;
  }
  if (windowed_ && !v.new_chunks.empty())
    seen_ = v.offset;  // blocks before its range may be skipped
  for (auto& c : v.new_chunks) windowed_ ? write_window(c) : void(ex.write(c));
  // A range is complete once its last byte is sent; the fill goes on for its other waiters.
  if (last || (windowed_ && seen_ > win_last_)) {
    ex.finish();
    detach();
    return false;
  }
  return v.more;
}

}  // namespace cdn::proxy
