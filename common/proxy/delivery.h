#pragma once
// Sends one client its response, from a whole cached object or by following a fill as it grows.
#include <memory>
#include <string>

#include "common/cache/object.h"
#include "common/http/exchange.h"
#include "common/proxy/fill.h"

namespace cdn::proxy {

class Phases;

struct DeliveryContext {
  std::string via_name;
  Phases* phases = nullptr;
};

class Delivery : public std::enable_shared_from_this<Delivery> {
 public:
  Delivery(std::shared_ptr<http::Exchange> ex, const DeliveryContext* ctx) : ex_(std::move(ex)), ctx_(ctx) {}
  void serve_object(const cache::ObjectRef& obj, std::string_view cache_status);
  void follow(std::shared_ptr<Fill> fill);

 private:
  void on_wake();
  void detach();
  // Starts the response for a streamed fill; false when it was answered whole (416).
  bool start_stream(const Fill::View& v);
  void write_window(const Bytes& chunk);

  std::shared_ptr<http::Exchange> ex_;
  const DeliveryContext* ctx_;
  std::shared_ptr<Fill> fill_;
  std::shared_ptr<Fill::Waiter> waiter_;
  size_t next_ = 0;
  bool buffer_all_ =
      false;  // body-rewriting responses (and ranges of unknown size) wait for the whole body
  Body buffered_;
  // A range of a streamed fill: only bytes [win_first_, win_last_] of the body are sent, as they
  // arrive; seen_ counts the body bytes passed so far.
  bool windowed_ = false;
  uint64_t seen_ = 0, win_first_ = 0, win_last_ = 0;
};

}  // namespace cdn::proxy
