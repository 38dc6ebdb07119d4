#include "common/proxy/delivery.h"

#include "common/cache/freshness.h"
#include "common/proxy/phases.h"
#include "common/proxy/response_headers.h"
#include "common/obs/metrics.h"
#include "common/util/clock.h"
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

}  // namespace

void Delivery::count_lookup(std::string_view cache_status) {
  // Once per response, whichever path answers it.
  if (counted_) return;
  counted_ = true;
  // Four results only: cache the counter references per thread instead of a map lookup.
  thread_local obs::Counter* counters[4] = {};
  static const char* kNames[4] = {"HIT", "MISS", "STALE", "REVALIDATED"};
  for (int i = 0; i < 4; ++i) {
    if (cache_status != kNames[i]) continue;
    if (!counters[i])
      counters[i] = &obs::metrics().counter("cdn_cache_lookups_total", "Cache lookups by result",
                                            {{"result", to_lower(kNames[i])}});
    counters[i]->inc();
    return;
  }
}

void Delivery::serve_object(const cache::ObjectRef& obj, std::string_view cache_status) {
  auto& ex = *ex_;
  if (!ex.alive()) return;
  const auto& meta = obj->meta;
  ex.log.cache = std::string(cache_status);
  count_lookup(cache_status);
  int64_t age = cache::current_age_s(meta, unix_now());
  http::Headers h = client_headers(meta.headers, age, cache_status, ctx_->via_name);
  if (ctx_->phases) ctx_->phases->response_filter(ex, h);
  bool transform = ctx_->phases && meta.status == 200 && ctx_->phases->wants_body_transform(ex, h);
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
    transformed.append(make_bytes(ctx_->phases->transform_body(ex, obj->body.flatten())));
    body = &transformed;
    h.remove("etag");  // the bytes differ per viewer
  }
  if (meta.status == 200) {
    if (auto* range = ex.request().headers.get("range")) {
      http::ByteRange r;
      switch (http::parse_range(*range, body->size, r)) {
        case http::RangeResult::Satisfiable: {
          h.set("Content-Range", "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
                                     std::to_string(body->size));
          ex.respond(206, std::move(h), slice(*body, r.first, r.last));
          return;
        }
        case http::RangeResult::Unsatisfiable:
          h.set("Content-Range", "bytes */" + std::to_string(body->size));
          ex.log.reason = "range-not-satisfiable";
          ex.respond(416, std::move(h), std::string_view());
          return;
        case http::RangeResult::None: break;
      }
    }
  }
  // A whole object is queued at once: its blocks are shared with the cache, so a slow client
  // holds references, not copies (and TLS encrypts them only as its socket drains).
  ex.respond(meta.status, std::move(h), *body);
}

void Delivery::follow(std::shared_ptr<Fill> fill, bool leader) {
  fill_ = std::move(fill);
  std::weak_ptr<Delivery> weak = shared_from_this();
  waiter_ = fill_->add_waiter(ex_->worker(), [weak]() {
    if (auto self = weak.lock()) self->on_wake();
  });
  // The waiter holds only a weak reference; the exchange's abort hook keeps us alive meanwhile.
  auto self = shared_from_this();
  ex_->on_abort([self]() { self->detach(); });
  ex_->on_proceed([weak]() {
    if (auto s = weak.lock()) s->on_wake();
  });
  buffer_all_ = ex_->request().headers.get("range") != nullptr;
  if (!leader) arm_lock_timeout();
  on_wake();
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
      uint64_t(std::max<int64_t>(ctx_->cache_lock_ms, 1)), 0);
}

void Delivery::on_lock_timeout() {
  if (!waiter_ || head_seen_) return;
  auto keep = shared_from_this();
  auto& ex = *ex_;
  if (ex.alive() && !ex.started()) {
    http::Headers h;
    if (ctx_->phases) ctx_->phases->response_filter(ex, h);
    ex.respond_error(504, "cache-lock-timeout", std::move(h));
  }
  detach();
}

void Delivery::detach() {
  if (waiter_ && fill_) fill_->remove_waiter(waiter_);
  waiter_.reset();
  lock_timer_.close();
  ex_->on_proceed(nullptr);
  ex_->on_abort(nullptr);  // drops the self-reference held by the hook
}

void Delivery::on_head(const Fill::View& v) {
  head_seen_ = true;
  lock_timer_.close();
  auto& ex = *ex_;
  ex.log.cache = v.cache_status;
  count_lookup(v.cache_status);
  // A fresh fetch is as old as the upstream says it is (its own cache's Age).
  int64_t age = parse_int(v.headers->get_or("age", "0")).value_or(0);
  http::Headers h = client_headers(*v.headers, age, v.cache_status, ctx_->via_name);
  if (ctx_->phases) ctx_->phases->response_filter(ex, h);
  transform_ = ctx_->phases && v.status == 200 && ctx_->phases->wants_body_transform(ex, h);
  if (transform_) buffer_all_ = true;
  if (buffer_all_) {
    head_ = std::move(h);
    return;
  }
  ex.start(v.status, std::move(h), v.content_length);
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
  switch (v.state) {
    case Fill::State::Pending: return false;
    case Fill::State::Failed:
      if (ex.started()) {
        if (ex.log.reason.empty()) ex.log.reason = v.error;
        ex.abort();
      } else {
        http::Headers h;
        if (ctx_->phases) ctx_->phases->response_filter(ex, h);
        ex.respond_error(v.error == "upstream-timeout" ? 504 : 502, v.error, std::move(h));
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
  if (!head_seen_) on_head(v);
  bool last = v.state == Fill::State::Done && !v.more;
  if (buffer_all_) {
    for (auto& c : v.new_chunks) buffered_.append(c);
    if (!last) return v.more;
    // Serve the gathered body like a cached object (ranges, transforms).
    auto obj = std::make_shared<cache::CachedObject>();
    obj->meta.status = v.status;
    for (auto& hd : *v.headers) obj->meta.headers.push_back({hd.name, hd.value});
    obj->meta.response_time_ms = unix_now_ms();
    obj->meta.request_time_ms = obj->meta.response_time_ms;
    obj->meta.date_s = unix_now();
    obj->body = std::move(buffered_);
    obj->meta.body_size = obj->body.size;
    detach();
    send_object(obj, std::move(head_), transform_);
    return false;
  }
  for (auto& c : v.new_chunks) ex.write(c);
  if (last) {
    ex.finish();
    detach();
    return false;
  }
  return v.more;
}

}  // namespace cdn::proxy
