#pragma once
// One player's keep-alive connection to the edge (TLS or plain), one GET at a time, responses read
// with the project's ResponseParser. It connects on the first request and again after the server
// closed it; a request that fails on a reused connection before any byte of its answer is retried
// once on a fresh one, as browsers do for a keep-alive connection the server had closed.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "bench/viewers/client_tls.h"
#include "common/http/response_parser.h"
#include "common/net/uv_handle.h"

namespace cdn::viewers {

enum class Failure { None, Connect, Tls, Reset, Timeout, BadResponse };
const char* to_string(Failure f);

struct Response {
  int status = 0;
  std::string error_reason;  // X-Error-Reason
  std::string body;          // only when asked for
  uint64_t body_bytes = 0;
  uint64_t wire_bytes = 0;  // bytes read from the socket for this response (ciphertext with TLS)
};

struct Endpoint {
  sockaddr_storage addr{};
  std::string host;  // Host header and SNI
  SSL_CTX* tls = nullptr;
};

class Connection {
 public:
  using Done = std::function<void(Failure, Response&&)>;
  // `resume`: a TLS session from this player's previous connection, offered for resumption.
  Connection(uv_loop_t* loop, const Endpoint* ep, SessionPtr resume = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One at a time: the callback runs (from the loop, never from inside get) before the next.
  void get(std::string target, bool keep_body, int64_t timeout_ms, Done done);
  bool busy() const { return static_cast<bool>(done_); }
  // Drops the connection and any request in flight (its callback never runs).
  void close();
  uint64_t connects() const { return connects_; }
  uint64_t resumed() const { return resumed_; }
  // The TLS session to offer next time (after close(); null without TLS or a handshake).
  SessionPtr take_session() { return std::move(last_session_); }

 private:
  void connect();
  void send_request();
  void on_bytes(const char* data, size_t len);
  void on_plain(const char* data, size_t len);
  void fail(Failure f);
  void finish(Failure f);
  void drop_socket();
  void write_raw(std::string bytes);
  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_timeout(uv_timer_t* t);

  uv_loop_t* loop_;
  const Endpoint* ep_;
  std::unique_ptr<net::UvHandle<uv_tcp_t>> tcp_;
  net::UvHandle<uv_timer_t> timer_;
  std::unique_ptr<ClientTls> tls_;
  SessionPtr last_session_;
  http::ResponseParser parser_;
  bool connected_ = false;
  bool reused_ = false;  // the request went out on a connection that had served one before
  bool retried_ = false;
  bool any_byte_ = false;  // a byte of the current response arrived
  std::string target_;
  bool keep_body_ = false;
  int64_t timeout_ms_ = 0;
  Response resp_;
  Done done_;
  uint64_t connects_ = 0, resumed_ = 0;
};

}  // namespace cdn::viewers
