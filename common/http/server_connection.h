#pragma once
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/http/exchange.h"
#include "common/http/request_parser.h"
#include "common/net/stream.h"
#include "common/net/uv_handle.h"
#include "common/net/worker.h"

namespace cdn::http {

struct ServerOptions {
  ParseLimits limits;
  int64_t header_read_ms = 10000;
  int64_t keepalive_idle_ms = 60000;
  int64_t send_stall_ms = 30000;
  size_t max_body_bytes = 1 << 20;
  std::string server_name;  // for Via and Server
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void handle(const std::shared_ptr<Exchange>& ex) = 0;
};

struct ConnectionHooks {
  // Requests refused before reaching a handler (400/408/414/431) or connections cut for slowness.
  std::function<void(int status, const std::string& reason)> on_refused;
  std::function<void(const Exchange&)> on_complete;  // access log and request metrics
  // Asked before each request is dispatched: a non-empty reason refuses it with 429 and closes.
  std::function<std::string_view(const std::string& client_ip)> admit_request;
};

class ServerConnection : public std::enable_shared_from_this<ServerConnection>, public net::Stream::Handler {
 public:
  ServerConnection(net::Worker* worker, uv_tcp_t* tcp, std::unique_ptr<net::TlsSession> tls,
                   const ServerOptions& opts, RequestHandler* handler, const ConnectionHooks* hooks,
                   std::function<bool()> draining, std::function<void(ServerConnection*)> on_closed);
  ~ServerConnection() override;
  void start();
  void close();
  // Drain: idle connections close now, busy ones after their current response.
  void drain();
  bool idle() const { return !current_ && !parser_.started(); }

 private:
  friend class Exchange;
  void on_stream_read(const char* data, size_t len) override;
  void on_stream_end(int status) override;
  void on_stream_drained() override;
  void on_stream_flushed_and_closed() override;
  void release();

  void parse(const char* data, size_t len);
  void dispatch();
  void response_finished(Exchange* ex);
  // Both request and response are done: on to the next request, or close. False if closed.
  bool finish_exchange();
  void resume_pipeline();
  void refuse(int status, const std::string& reason, std::string_view extra_headers = {});
  void arm(int64_t deadline_ms);
  void on_tick();
  std::string render_head(Exchange* ex, int status, const Headers& headers, int64_t content_length, bool chunked);

  net::Worker* worker_;
  std::unique_ptr<net::Stream> stream_;
  const ServerOptions& opts_;
  RequestHandler* handler_;
  const ConnectionHooks* hooks_;
  std::function<bool()> draining_;
  std::function<void(ServerConnection*)> on_closed_;
  RequestParser parser_;
  net::UvHandle<uv_timer_t> timer_;
  std::shared_ptr<Exchange> current_;
  std::shared_ptr<ServerConnection> self_;  // alive until the handles are closed
  std::string inbuf_;                        // pipelined bytes waiting for the current response
  std::string client_ip_;
  bool in_parse_ = false;
  bool message_done_ = false;
  bool response_done_ = false;
  bool paused_ = false;
  bool closed_ = false;
  bool close_after_response_ = false;
  int64_t deadline_ms_ = 0;
  int64_t closed_at_ms_ = 0;
  bool released_ = false;
  uint64_t stall_flushed_ = 0;
  int64_t stall_since_ms_ = 0;
};

}  // namespace cdn::http
