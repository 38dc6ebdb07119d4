#include "common/http/exchange.h"

#include "common/http/server_connection.h"
#include "common/util/clock.h"

namespace cdn::http {

Exchange::Exchange(std::weak_ptr<ServerConnection> conn, net::Worker* worker)
    : conn_(std::move(conn)), worker_(worker), start_ms_(mono_ms()) {}

std::shared_ptr<ServerConnection> Exchange::conn() const {
  if (closed_) return nullptr;
  auto c = conn_.lock();
  return (c && !c->closed_ && c->current_.get() == this) ? c : nullptr;
}

bool Exchange::alive() const { return conn() != nullptr; }

size_t Exchange::pending_bytes() const {
  auto c = conn();
  return c && c->stream_ ? c->stream_->pending_bytes() : 0;
}

bool Exchange::start(int status, Headers headers, int64_t content_length) {
  auto c = conn();
  if (!c || started_) return false;
  started_ = true;
  status_ = status;
  head_only_ = req_.is_head() || status == 304 || status == 204 || status < 200;
  chunked_ = content_length < 0 && !head_only_;
  remaining_ = content_length;
  return c->write_head(this, status, headers, content_length, chunked_);
}

static const Bytes& crlf() {
  static const Bytes k = make_bytes(std::string_view("\r\n"));
  return k;
}

bool Exchange::write(const Bytes& chunk) {
  auto c = conn();
  if (!c || !started_ || finished_ || chunk->empty()) return c != nullptr;
  body_bytes_ += chunk->size();
  if (head_only_) return true;
  if (remaining_ >= 0) {
    if (int64_t(chunk->size()) > remaining_) {  // never send more than we announced
      abort();
      return false;
    }
    remaining_ -= int64_t(chunk->size());
  }
  if (chunked_) {
    char hex[24];
    int n = snprintf(hex, sizeof hex, "%zx\r\n", chunk->size());
    Bytes parts[2] = {chunk, crlf()};
    return c->stream_->write(std::string(hex, size_t(n)), parts);
  }
  return c->stream_->write(chunk);
}

void Exchange::finish() {
  auto c = conn();
  if (!c || finished_) return;
  if (!started_) start(200, {}, 0);
  if (!head_only_ && remaining_ > 0) {  // promised more than we have: a truncated body must look broken
    abort();
    return;
  }
  finished_ = true;
  if (chunked_) c->stream_->write(std::string("0\r\n\r\n"));
  c->response_finished(this);
}

void Exchange::abort() {
  auto c = conn();
  finished_ = true;
  if (!c) return;
  c->close_after_response_ = true;
  c->stream_->close();
  c->response_finished(this);
}

void Exchange::respond(int status, Headers headers, std::string_view body) {
  if (!start(status, std::move(headers), int64_t(body.size()))) return;
  if (!body.empty()) write(make_bytes(body));
  finish();
}

void Exchange::respond(int status, Headers headers, const Body& body) {
  if (!start(status, std::move(headers), int64_t(body.size))) return;
  auto c = conn();
  if (c && !head_only_ && !body.chunks.empty()) {
    body_bytes_ += body.size;
    remaining_ = 0;
    c->stream_->write(std::string(), body.chunks);
  } else {
    body_bytes_ += body.size;
    remaining_ = 0;
  }
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
  auto c = conn();
  if (c) {
    c->parser_.set_body_sink([this](const char* d, size_t n) {
      if (body_data_) body_data_(d, n);
    });
  }
}

}  // namespace cdn::http
