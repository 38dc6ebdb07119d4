#pragma once
// Sends one client its response, from a whole cached object or by following a fill as it grows.
// Following a fill is flow-controlled: blocks are taken from the fill only while the client's
// connection is under its high-water mark, and the rest waits for the connection's proceed().
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/cache/object.h"
#include "common/http/exchange.h"
#include "common/net/uv_handle.h"
#include "common/obs/metrics.h"
#include "common/proxy/blocking_reload.h"
#include "common/proxy/fill.h"

namespace cdn::proxy {

class Phases;
class RequestContext;

struct DeliveryContext {
  std::string via_name;
  Phases* phases = nullptr;
  // A request queued behind another request's fill answers 504 when no response started by then.
  int64_t cache_lock_ms = 15'000;
  int64_t blocking_reload_ms = 30'000;  // the lock timeout of an LL-HLS blocking reload (blocking_reload.h)
  bool strip_surrogate_keys = true;  // ProxyOptions::strip_surrogate_keys
  // cdn_cache_lookups_total of this service: HIT, MISS, STALE, REVALIDATED (service_metrics.h).
  obs::Counter* lookups[4] = {};
};

class Delivery : public std::enable_shared_from_this<Delivery> {
 public:
  // Starts a fetch of this request's own when the shared fill cannot serve it, and returns its
  // fill (nullptr when the client is gone).
  using Refetch = std::function<std::shared_ptr<Fill>()>;

  // `rc`: the request's phase context (what ctx->phases made for it).
  Delivery(std::shared_ptr<http::Exchange> ex, std::shared_ptr<RequestContext> rc,
           const DeliveryContext* ctx)
      : ex_(std::move(ex)), rc_(std::move(rc)), ctx_(ctx) {}
  void serve_object(const cache::ObjectRef& obj, std::string_view cache_status);
  // `leader`: this request started the fill (its own upstream timeouts bound it; no lock timeout).
  // `refetch`: used when the fill says "fill-not-joinable" before the response started.
  void follow(std::shared_ptr<Fill> fill, bool leader, Refetch refetch = {});

 private:
  void on_wake();
  // Takes what the fill and the connection allow; false once this delivery is over.
  bool pump();
  void detach();
  void add_waiter();
  // Leaves a fill that cannot serve this request for one of its own; false when there is none.
  bool refollow();
  // False when the fill's response is a variant (Vary) that this request does not select.
  bool selects_variant() const;
  // Starts the response for a streamed fill; false when it was answered whole (416).
  bool on_head(const Fill::View& v);
  // A range of a streamed fill: passes on only the chunk's bytes inside the window.
  void write_window(const Bytes& chunk);
  void arm_lock_timeout();
  void on_lock_timeout();
  // The response for a whole body, after the response filter: 304, transform, range or 200.
  void send_object(const cache::ObjectRef& obj, http::Headers h, bool transform);
  void count_lookup(std::string_view cache_status);
  // The response filter phase for this response's head; true when its body is to be transformed.
  bool filter_response(http::Headers& h, bool body_transformable);

  std::shared_ptr<http::Exchange> ex_;
  std::shared_ptr<RequestContext> rc_;
  const DeliveryContext* ctx_;
  std::shared_ptr<Fill> fill_;
  std::shared_ptr<Fill::Waiter> waiter_;
  Refetch refetch_;
  bool head_seen_ = false;
  bool counted_ = false;
  bool transform_ = false;  // the phases rewrite this body (asked once per response)
  // Body-rewriting responses (and ranges of unknown size) wait for the whole body.
  bool buffer_all_ = false;
  http::Headers head_;  // client headers kept for a buffered response
  Body buffered_;
  // A range of a streamed fill: only bytes [win_first_, win_last_] of the body are sent, as they
  // arrive; seen_ counts the body bytes passed so far.
  bool windowed_ = false;
  uint64_t seen_ = 0, win_first_ = 0, win_last_ = 0;
  net::UvHandle<uv_timer_t> lock_timer_;
  ParkedViewer parked_;  // an LL-HLS blocking reload, until its head
};

}  // namespace cdn::proxy
