#pragma once
// One request and its response, driven through a ResponseChannel: start the response, offer body
// bytes while can_write() says so and go on when on_proceed() fires, finish, or abort. HTTP/1.1
// connections implement the channel now; an HTTP/2 stream implements the same one next, so the
// proxy core and the tier programs never see the protocol.
//
// Handlers keep a shared_ptr across async work; once the client is gone every call is a harmless
// no-op and alive() turns false.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/http/message.h"
#include "common/util/bytes.h"

namespace cdn::net {
class Worker;
}

namespace cdn::http {

class Exchange;

// What the exchange hands its connection when the response starts.
struct ResponseHead {
  int status = 200;
  const Headers* headers = nullptr;
  int64_t content_length = -1;  // < 0: length unknown (HTTP/1.1 frames it chunked)
  bool body_allowed = true;     // false for HEAD, 1xx, 204, 304
};

// The connection side of an exchange. All calls come from the connection's loop thread.
class ResponseChannel {
 public:
  virtual ~ResponseChannel() = default;
  // False once `ex` can no longer send (client gone, or not the exchange being answered).
  virtual bool channel_open(const Exchange& ex) const = 0;
  // The head, with the first body bytes when the caller has them (one write for small answers).
  virtual bool send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                         std::span<const Bytes> blocks) = 0;
  virtual bool send_body(Exchange& ex, std::span<const Bytes> blocks) = 0;
  // Every body byte has been offered.
  virtual void end_response(Exchange& ex) = 0;
  // The response cannot be completed: the client must be able to tell (close, reset the stream).
  virtual void abort_response(Exchange& ex) = 0;
  // Bytes offered for this exchange that the client's socket has not taken yet.
  virtual size_t unsent_bytes(const Exchange& ex) const = 0;
  // The most unsent bytes a producer should leave queued (the high-water mark).
  virtual size_t send_window() const = 0;
  // The exchange now has a request body handler: route the body's bytes to it.
  virtual void want_request_body(Exchange& ex) = 0;
  // The body's consumer cannot take more now (`paused`), or can again. Bytes already read (or,
  // on HTTP/2, already allowed by the stream's window) still arrive.
  virtual void request_body_flow(Exchange& ex, bool paused) {
    (void)ex;
    (void)paused;
  }
  // An interim (1xx) response before the head (RFC 9110 §15.2); false when not sent.
  virtual bool send_interim(Exchange& ex, int status, const Headers& headers) {
    (void)ex;
    (void)status;
    (void)headers;
    return false;
  }
};

// What the access log and metrics want to know beyond status and bytes.
struct ExchangeLog {
  std::string cache;     // HIT, MISS, STALE, REVALIDATED, or empty
  std::string upstream;  // address used, if any
  std::string reason;    // machine-readable error reason, if any
  // The delivery service (empty: none chose it), its metric label (empty: none), and what keeps
  // that service (and these strings) alive while this request lasts, across a reload.
  std::string_view service, service_label;
  std::shared_ptr<const void> service_pin;
};

class Exchange {
 public:
  Exchange(std::weak_ptr<ResponseChannel> channel, net::Worker* worker, Request req, std::string client_ip,
           bool tls);

  Request& request() { return req_; }
  const Request& request() const { return req_; }

  // Whole response in one call. For HEAD the body is not sent, its length still is.
  void respond(int status, Headers headers, std::string_view body);
  void respond(int status, Headers headers, const Body& body);
  // A short error: text body "<status> <reason>\n", the reason also in X-Error-Reason.
  void respond_error(int status, std::string_view reason, Headers extra = {});

  // An interim response (103 Early Hints, ...) passed on before the response starts.
  bool send_interim(int status, const Headers& headers);

  // Streaming: content_length < 0 means unknown (chunked on HTTP/1.1).
  bool start(int status, Headers headers, int64_t content_length);
  // Offers body bytes. Producers that follow a source of unbounded size offer only while
  // can_write() and go on from on_proceed(); whole cached objects may be offered at once (their
  // blocks are shared, the channel holds references, not copies).
  bool write(const Bytes& chunk);
  void finish();
  // The response cannot be completed: close without a final chunk, so no client or downstream
  // cache can take a truncated body for a complete one.
  void abort();
  // End of a streamed body: drops the producer's hooks (and the references they hold), then
  // finishes, or aborts when the body cannot be completed.
  void end_stream(bool complete);

  bool alive() const;
  bool started() const { return started_; }
  bool finished() const { return finished_; }
  // True while the unsent bytes are under the channel's high-water mark.
  bool can_write() const { return write_room() > 0; }
  // Bytes that may still be offered before the high-water mark (0 once the client is gone).
  size_t write_room() const;
  size_t pending_bytes() const;
  // Runs when the unsent bytes fall back under the high-water mark.
  void on_proceed(std::function<void()> fn) { on_proceed_ = std::move(fn); }
  void on_abort(std::function<void()> fn) { on_abort_ = std::move(fn); }

  // Request bodies (ingest, pass-through): bytes as they arrive, then end(ok). Bytes that came
  // before the handler was set (while a phase was suspended) are held, bounded, and replayed.
  void set_body_handler(std::function<void(const char*, size_t)> data, std::function<void(bool)> end);
  // Request-body flow control for a consumer that forwards the bytes to a slower sink.
  void pause_request_body();
  void resume_request_body();

  net::Worker* worker() const { return worker_; }
  const std::string& client_ip() const { return client_ip_; }
  bool tls() const { return tls_; }
  // "HTTP/1.1" or "HTTP/2": for the access log and the requests counter only; nothing else may
  // branch on it.
  std::string_view protocol() const { return http2_ ? "HTTP/2" : "HTTP/1.1"; }
  int64_t start_ms() const { return start_ms_; }
  int status() const { return status_; }
  // Body bytes the client's socket took (not bytes queued; never HEAD bodies).
  uint64_t body_bytes_sent() const { return body_sent_; }
  ExchangeLog log;

  // --- Called by the channel only ---
  bool reads_request_body() const { return bool(body_data_); }
  void deliver_request_body(const char* data, size_t len);
  void end_request_body(bool ok);
  void client_gone();  // runs the abort hook once
  void proceed();      // unsent bytes fell under the high-water mark
  void count_body_sent(uint64_t n) { body_sent_ += n; }
  void set_http2() { http2_ = true; }

 private:
  std::shared_ptr<ResponseChannel> channel() const;
  // Sets the response state; nullptr if nothing may be sent.
  std::shared_ptr<ResponseChannel> begin(int status, int64_t content_length, ResponseHead& head,
                                         const Headers& headers);

  std::weak_ptr<ResponseChannel> channel_;
  net::Worker* worker_;
  Request req_;
  std::string client_ip_;
  bool tls_ = false;
  bool http2_ = false;
  int64_t start_ms_ = 0;
  int status_ = 0;
  bool started_ = false, finished_ = false, head_only_ = false;
  int64_t remaining_ = -1;
  uint64_t body_sent_ = 0;
  std::function<void()> on_proceed_, on_abort_;
  std::function<void(const char*, size_t)> body_data_;
  std::function<void(bool)> body_end_;
};

}  // namespace cdn::http
