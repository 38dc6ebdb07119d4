#pragma once
#include <uv.h>

#include <vector>
#include <functional>
#include <memory>
#include <string>

#include "common/http/exchange.h"
#include "common/http/h2_limits.h"
#include "common/http/request_parser.h"
#include "common/net/memory_trim.h"
#include "common/net/stream.h"
#include "common/net/tick_list.h"
#include "common/net/uv_handle.h"
#include "common/net/worker.h"
#include "common/util/clock.h"

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
  H2Options h2;
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
  // An HTTP/2 limit refused a stream or (`connection`) ended a connection
  // (cdn_http2_refused_total{reason}; connection endings are logged too).
  std::function<void(const std::string& reason, const std::string& client_ip, bool connection)> on_h2_refused;
};

class ServerConnection;
class H2Session;

// What every connection that one server accepted on one worker shares. A connection points here
// instead of carrying its own copies: an idle connection's size is the server's memory per viewer.
struct ConnectionContext {
  ConnectionContext(net::Worker* worker, const ServerOptions* opts, RequestHandler* handler,
                    const ConnectionHooks* hooks);
  // Calls fn for every connection from its start() until its handles are released.
  void for_each_connection(const std::function<void(ServerConnection&)>& fn);

  net::Worker* worker;
  const ServerOptions* opts;
  RequestHandler* handler;
  const ConnectionHooks* hooks;
  std::function<bool()> draining = [] { return false; };
  // Once per connection, when it closes (its last bytes may still be flushing).
  std::function<void(ServerConnection&)> on_closed;
  // Freed per-request memory goes back to the kernel after a burst (see memory_trim.h).
  net::TrimAfterBurst trim;
  // Deadlines and send stalls of all these connections are checked from one timer.
  net::TickList connections;
};

// One client connection. HTTP/2 (ALPN h2, or h2c with prior knowledge) is handed to an H2Session
// on the first bytes; otherwise it is HTTP/1.1, as follows.
// An HTTP/1.1 client connection parses requests in order, answers one exchange at a time (the
// ResponseChannel of its current exchange), and closes on limits and timeouts. While idle it
// holds only the socket, its own small state and a place in the context's tick list; the parser,
// the exchange and the accounting state exist only between a request's first byte and the moment
// its response has been flushed.
class ServerConnection : public std::enable_shared_from_this<ServerConnection>,
                         public net::Stream::Handler,
                         public ResponseChannel,
                         private net::TickList::Node {
 public:
  // `client_ip` is the peer's address as text (net::peer_ip).
  ServerConnection(ConnectionContext* ctx, uv_tcp_t* tcp, std::unique_ptr<net::TlsSession> tls,
                   std::string client_ip);
  ~ServerConnection() override;
  void start();
  void close();
  // Drain: idle connections close now, busy ones after their current response.
  void drain();
  bool idle() const;
  // False while idle: no per-request state is held (memory-per-connection tests read this).
  bool holds_request_state() const { return active_ != nullptr; }
  const std::string& client_ip() const { return client_ip_; }
  static void tick(net::TickList::Node* node, int64_t now_ms);
  static ServerConnection& from_node(net::TickList::Node* node) {
    return *static_cast<ServerConnection*>(node);
  }

 private:
  // A run of response bytes [begin, end) in stream offsets, `body` of them body bytes.
  struct SentRun {
    uint64_t begin = 0, end = 0, body = 0, credited = 0;
    std::shared_ptr<Exchange> ex;
  };
  struct AwaitingLog {
    std::shared_ptr<Exchange> ex;
    uint64_t end = 0;
  };
  // What a connection needs from a request's first byte until its response has been flushed.
  struct Active {
    explicit Active(const ParseLimits& limits) : parser(limits) {}
    RequestParser parser;
    std::shared_ptr<Exchange> current;
    std::string inbuf;  // pipelined bytes waiting for the current response
    // Vectors, not deques: a deque allocates even while empty.
    std::vector<SentRun> sent_runs;
    std::vector<AwaitingLog> awaiting_log;
    uint64_t stall_flushed = 0;
    int64_t stall_since_ms = 0;
    bool in_parse = false;
    bool message_done = false;
    bool response_done = false;
    bool paused = false;
    bool body_paused = false;  // reading stopped: the body's consumer is full, or nobody reads yet
    bool chunked = false;  // the current response's body is chunk-framed
  };

  // ResponseChannel
  bool channel_open(const Exchange& ex) const override {
    return !closed_ && active_ && active_->current.get() == &ex;
  }
  bool send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                 std::span<const Bytes> blocks) override;
  bool send_body(Exchange& ex, std::span<const Bytes> blocks) override;
  void end_response(Exchange& ex) override;
  void abort_response(Exchange& ex) override;
  size_t unsent_bytes(const Exchange&) const override { return stream_.pending_bytes(); }
  size_t send_window() const override { return ctx_->opts->send_buffer_bytes; }
  void want_request_body(Exchange& ex) override;
  void request_body_flow(Exchange& ex, bool paused) override;
  bool send_interim(Exchange& ex, int status, const Headers& headers) override;

  // net::Stream::Handler
  void on_stream_read(const char* data, size_t len) override;
  void on_stream_end(int status) override;
  void on_stream_progress() override;
  void on_stream_flushed_and_closed() override;
  void release();
  // On the first bytes: HTTP/2 when ALPN chose h2, or (h2c) when they open with the preface.
  bool start_h2_if_chosen(const char* data, size_t len);

  Active& active();
  // Frees the per-request state once nothing is in progress, queued or unflushed.
  void drop_request_state_if_idle();
  const ServerOptions& opts() const { return *ctx_->opts; }
  const ConnectionHooks* hooks() const { return ctx_->hooks; }
  void parse(const char* data, size_t len);
  void dispatch();
  // A body nobody reads yet (a phase suspended the request) is held up to a bound, then the
  // connection stops reading until a handler takes it or the response ends the exchange.
  void hold_unread_body();
  void response_finished(Exchange& ex);
  // Both request and response are done: on to the next request, or close. False if closed.
  bool finish_exchange();
  void resume_pipeline();
  void refuse(int status, const std::string& reason, std::string_view extra_headers = {});
  void arm(int64_t deadline_ms) { deadline_ms_ = deadline_ms; }
  int64_t now_ms() const { return ctx_->worker ? ctx_->worker->now_ms() : mono_ms(); }
  void on_tick(int64_t now);
  std::string render_head(const Exchange& ex, const ResponseHead& head);
  // Writes response bytes, remembering which of them are body bytes for egress accounting.
  bool write_response(std::string text, std::span<const Bytes> blocks, uint64_t body_bytes);
  // Credits body bytes the socket took; runs on_complete for responses fully sent.
  void account_flushed();
  // The connection is gone: what was sent is all there will be.
  void account_final();

  ConnectionContext* ctx_;
  net::Stream stream_;
  std::unique_ptr<Active> active_;           // null while idle
  std::unique_ptr<H2Session> h2_;            // set once the connection speaks HTTP/2
  std::shared_ptr<ServerConnection> self_;  // alive until the handles are closed
  std::string client_ip_;
  // Header, keep-alive or (once closed) flush deadline; 0 while a response is in progress.
  int64_t deadline_ms_ = 0;
  bool closed_ = false;
  bool close_after_response_ = false;
  bool released_ = false;
  bool protocol_known_ = false;  // the first bytes were read: HTTP/1.1 or HTTP/2 is settled
};

}  // namespace cdn::http
