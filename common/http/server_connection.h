#pragma once
#include <uv.h>

#include <vector>
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
  // High-water mark of a connection's unsent response bytes: producers offer more only below it.
  size_t send_buffer_bytes = 64 * 1024;
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
  // The whole response was handed to the connection (cdn_requests_total counts here, so an
  // upstream tier has counted a request by the time its client holds the answer).
  std::function<void(const Exchange&)> on_answered;
  // Access log and duration; runs once the response's bytes left (or the client went).
  std::function<void(const Exchange&)> on_complete;
  // Asked before each request is dispatched: a non-empty reason refuses it with 429 and closes.
  std::function<std::string_view(const std::string& client_ip)> admit_request;
  // Response body bytes the client's socket took (egress accounting).
  std::function<void(uint64_t bytes)> on_body_sent;
};

// One HTTP/1.1 client connection: parses requests in order, answers one exchange at a time (the
// ResponseChannel of its current exchange), and closes on limits and timeouts.
class ServerConnection : public std::enable_shared_from_this<ServerConnection>,
                         public net::Stream::Handler,
                         public ResponseChannel {
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
  // ResponseChannel
  bool channel_open(const Exchange& ex) const override { return !closed_ && current_.get() == &ex; }
  bool send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                 std::span<const Bytes> blocks) override;
  bool send_body(Exchange& ex, std::span<const Bytes> blocks) override;
  void end_response(Exchange& ex) override;
  void abort_response(Exchange& ex) override;
  size_t unsent_bytes(const Exchange&) const override { return stream_->pending_bytes(); }
  size_t send_window() const override { return opts_.send_buffer_bytes; }
  void want_request_body(Exchange& ex) override;

  // net::Stream::Handler
  void on_stream_read(const char* data, size_t len) override;
  void on_stream_end(int status) override;
  void on_stream_progress() override;
  void on_stream_flushed_and_closed() override;
  void release();

  void parse(const char* data, size_t len);
  void dispatch();
  void response_finished(Exchange& ex);
  // Both request and response are done: on to the next request, or close. False if closed.
  bool finish_exchange();
  void resume_pipeline();
  void refuse(int status, const std::string& reason, std::string_view extra_headers = {});
  void arm(int64_t deadline_ms);
  void on_tick();
  std::string render_head(const Exchange& ex, const ResponseHead& head);
  // Writes response bytes, remembering which of them are body bytes for egress accounting.
  bool write_response(Exchange& ex, std::string text, std::span<const Bytes> blocks, uint64_t body_bytes);
  // Credits body bytes the socket took; runs on_complete for responses fully sent.
  void account_flushed();
  // The connection is gone: what was sent is all there will be.
  void account_final();

  // A run of response bytes [begin, end) in stream offsets, `body` of them body bytes.
  struct SentRun {
    uint64_t begin = 0, end = 0, body = 0, credited = 0;
    std::shared_ptr<Exchange> ex;
  };
  struct AwaitingLog {
    std::shared_ptr<Exchange> ex;
    uint64_t end = 0;
  };

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
  bool chunked_ = false;  // the current response's body is chunk-framed
  // Vectors, not deques: both are empty on an idle connection and a deque allocates even then.
  std::vector<SentRun> sent_runs_;
  std::vector<AwaitingLog> awaiting_log_;
  int64_t deadline_ms_ = 0;
  int64_t closed_at_ms_ = 0;
  bool released_ = false;
  uint64_t stall_flushed_ = 0;
  int64_t stall_since_ms_ = 0;
};

}  // namespace cdn::http
