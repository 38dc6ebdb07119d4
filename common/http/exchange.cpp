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

std::optional<std::string> Exchange::begin(const std::shared_ptr<ServerConnection>& c, int status,
                                          const Headers& headers, int64_t content_length) {
  if (!c || started_) return std::nullopt;
  started_ = true;
  status_ = status;
  head_only_ = req_.is_head() || status == 304 || status == 204 || status < 200;
  chunked_ = content_length < 0 && !head_only_;
  remaining_ = content_length;
  return c->render_head(this, status, headers, content_length, chunked_);
}

bool Exchange::start(int status, Headers headers, int64_t content_length) {
  auto c = conn();
  auto head = begin(c, status, headers, content_length);
  return head && c->stream_->write(std::move(*head));
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

// Whole responses go out as one write: head and body in one syscall (one TLS record when small).
void Exchange::respond(int status, Headers headers, std::string_view body) {
  auto c = conn();
  auto head = begin(c, status, headers, int64_t(body.size()));
  if (!head) return;
  remaining_ = 0;
  body_bytes_ += body.size();
  if (head_only_ || body.empty()) {
    c->stream_->write(std::move(*head));
  } else if (body.size() <= 16384) {
    head->append(body);
    c->stream_->write(std::move(*head));
  } else {
    Bytes b = make_bytes(body);
    c->stream_->write(std::move(*head), std::span<const Bytes>(&b, 1));
  }
  finish();
}

void Exchange::respond(int status, Headers headers, const Body& body) {
  auto c = conn();
  auto head = begin(c, status, headers, int64_t(body.size));
  if (!head) return;
  remaining_ = 0;
  body_bytes_ += body.size;
  if (head_only_ || body.chunks.empty()) {
    c->stream_->write(std::move(*head));
  } else {
    c->stream_->write(std::move(*head), body.chunks);
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
