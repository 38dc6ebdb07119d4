#include "common/http/exchange.h"

#include "common/net/worker.h"
#include "common/util/clock.h"

namespace cdn::http {

Exchange::Exchange(std::weak_ptr<ResponseChannel> channel, net::Worker* worker, Request req, std::string client_ip,
                   bool tls)
    : channel_(std::move(channel)),
      worker_(worker),
      req_(std::move(req)),
      client_ip_(std::move(client_ip)),
      tls_(tls),
      start_ms_(worker ? worker->now_ms() : mono_ms()) {}

std::shared_ptr<ResponseChannel> Exchange::channel() const {
  auto c = channel_.lock();
  return c && c->channel_open(*this) ? c : nullptr;
}

bool Exchange::alive() const { return channel() != nullptr; }

size_t Exchange::pending_bytes() const {
  auto c = channel();
  return c ? c->unsent_bytes(*this) : 0;
}

size_t Exchange::write_room() const {
  auto c = channel();
  if (!c) return 0;
  size_t unsent = c->unsent_bytes(*this), window = c->send_window();
  return unsent < window ? window - unsent : 0;
}

std::shared_ptr<ResponseChannel> Exchange::begin(int status, int64_t content_length, ResponseHead& head,
                                                 const Headers& headers) {
  auto c = channel();
  if (!c || started_) return nullptr;
  started_ = true;
  status_ = status;
  head_only_ = req_.is_head() || status == 304 || status == 204 || status < 200;
  remaining_ = content_length;
  head.status = status;
  head.headers = &headers;
  head.content_length = content_length;
  head.body_allowed = !head_only_;
  return c;
}

bool Exchange::send_interim(int status, const Headers& headers) {
  if (started_ || status < 102 || status > 199) return false;
  auto c = channel();
  return c && c->send_interim(*this, status, headers);
}

bool Exchange::start(int status, Headers headers, int64_t content_length) {
  ResponseHead head;
  auto c = begin(status, content_length, head, headers);
  return c && c->send_head(*this, head, {}, {});
}

bool Exchange::write(const Bytes& chunk) {
  auto c = channel();
  if (!c || !started_ || finished_ || chunk->empty()) return c != nullptr;
  if (head_only_) return true;
  if (remaining_ >= 0) {
    if (int64_t(chunk->size()) > remaining_) {  // never send more than we announced
      abort();
      return false;
    }
    remaining_ -= int64_t(chunk->size());
  }
  return c->send_body(*this, std::span<const Bytes>(&chunk, 1));
}

void Exchange::finish() {
  auto c = channel();
  if (!c || finished_) return;
  if (!started_) start(200, {}, 0);
  if (!head_only_ && remaining_ > 0) {  // promised more than we have: a truncated body must look broken
    abort();
    return;
  }
  finished_ = true;
  c->end_response(*this);
}

void Exchange::abort() {
  auto c = channel();
  finished_ = true;
  if (c) c->abort_response(*this);
}

void Exchange::end_stream(bool complete) {
  on_proceed_ = nullptr;
  on_abort_ = nullptr;
  if (complete) {
    finish();
  } else if (alive()) {
    abort();
  }
}

void Exchange::respond(int status, Headers headers, std::string_view body) {
  ResponseHead head;
  auto c = begin(status, int64_t(body.size()), head, headers);
  if (!c) return;
  remaining_ = 0;
  c->send_head(*this, head, head_only_ ? std::string_view() : body, {});
  finish();
}

void Exchange::respond(int status, Headers headers, const Body& body) {
  ResponseHead head;
  auto c = begin(status, int64_t(body.size), head, headers);
  if (!c) return;
  remaining_ = 0;
  c->send_head(*this, head, {}, head_only_ ? std::span<const Bytes>() : std::span<const Bytes>(body.chunks));
  finish();
}

void Exchange::respond_error(int status, std::string_view reason, Headers extra) {
  if (log.reason.empty()) log.reason = std::string(reason);
  extra.set("Content-Type", "text/plain; charset=utf-8");
  extra.set("Cache-Control", "no-store");
  extra.set("X-Error-Reason", std::string(reason));
  std::string body = std::to_string(status) + " " + std::string(reason) + "\n";
  respond(status, std::move(extra), body);
}

void Exchange::set_body_handler(std::function<void(const char*, size_t)> data, std::function<void(bool)> end) {
  body_data_ = std::move(data);
  body_end_ = std::move(end);
  if (auto c = channel()) c->want_request_body(*this);
}

void Exchange::pause_request_body() {
  if (auto c = channel()) c->request_body_flow(*this, true);
}

void Exchange::resume_request_body() {
  if (auto c = channel()) c->request_body_flow(*this, false);
}

void Exchange::deliver_request_body(const char* data, size_t len) {
  if (body_data_) body_data_(data, len);
}

void Exchange::end_request_body(bool ok) {
  if (!body_end_) return;
  auto end = std::move(body_end_);
  body_end_ = nullptr;
  end(ok);
}

void Exchange::client_gone() {
  if (finished_ || !on_abort_) return;
  auto fn = std::move(on_abort_);
  on_abort_ = nullptr;
  fn();
}

void Exchange::proceed() {
  if (!on_proceed_ || finished_) return;
  auto fn = on_proceed_;  // the hook may replace itself
  fn();
}

}  // namespace cdn::http
