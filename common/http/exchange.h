#pragma once
// One request and its response on a server connection. Handlers keep a shared_ptr across async
// work; once the client is gone every call is a harmless no-op and alive() turns false.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/http/message.h"
#include "common/util/bytes.h"

namespace cdn::net {
class Worker;
}

namespace cdn::http {

class ServerConnection;

// What the access log and metrics want to know beyond status and bytes.
struct ExchangeLog {
  std::string cache;     // HIT, MISS, STALE, REVALIDATED, or empty
  std::string upstream;  // address used, if any
  std::string reason;    // machine-readable error reason, if any
};

class Exchange {
 public:
  Exchange(std::weak_ptr<ServerConnection> conn, net::Worker* worker);

  Request& request() { return req_; }
  const Request& request() const { return req_; }

  // Whole response in one call. For HEAD the body is not sent, its length still is.
  void respond(int status, Headers headers, std::string_view body);
  void respond(int status, Headers headers, const Body& body);
  // A short error: text body "<status> <reason>\n", the reason also in X-Error-Reason.
  void respond_error(int status, std::string_view reason, Headers extra = {});

  // Streaming: content_length < 0 means chunked.
  bool start(int status, Headers headers, int64_t content_length);
  bool write(const Bytes& chunk);
  void finish();
  // The response cannot be completed: close without a final chunk, so no client or downstream
  // cache can take a truncated body for a complete one.
  void abort();

  bool alive() const;
  bool started() const { return started_; }
  bool finished() const { return finished_; }
  size_t pending_bytes() const;
  void on_drain(std::function<void()> fn) { on_drain_ = std::move(fn); }
  void on_abort(std::function<void()> fn) { on_abort_ = std::move(fn); }

  // Request bodies (ingest): bytes as they arrive, then end(ok).
  void set_body_handler(std::function<void(const char*, size_t)> data, std::function<void(bool)> end);

  net::Worker* worker() const { return worker_; }
  const std::string& client_ip() const { return client_ip_; }
  bool tls() const { return tls_; }
  int64_t start_ms() const { return start_ms_; }
  int status() const { return status_; }
  uint64_t body_bytes_sent() const { return body_bytes_; }
  ExchangeLog log;
  // State a tier's phases keep for this request (e.g. verified token claims), opaque here.
  std::shared_ptr<void> phase_state;

 private:
  friend class ServerConnection;
  std::shared_ptr<ServerConnection> conn() const;
  // Sets the response state and renders the head; nullopt if nothing may be sent.
  std::optional<std::string> begin(const std::shared_ptr<ServerConnection>& c, int status, const Headers& headers,
                                   int64_t content_length);

  std::weak_ptr<ServerConnection> conn_;
  net::Worker* worker_;
  Request req_;
  std::string client_ip_;
  bool tls_ = false;
  int64_t start_ms_ = 0;
  int status_ = 0;
  bool started_ = false, finished_ = false, chunked_ = false, head_only_ = false;
  bool closed_ = false;
  int64_t remaining_ = -1;
  uint64_t body_bytes_ = 0;
  std::function<void()> on_drain_, on_abort_;
  std::function<void(const char*, size_t)> body_data_;
  std::function<void(bool)> body_end_;
};

}  // namespace cdn::http
