#pragma once
// HTTP/1.1 client for one upstream address, one pool per worker loop: keep-alive connections,
// connect / first-byte / idle timeouts, Content-Length, chunked and close-delimited bodies.
// A request that failed on a reused idle connection before any response byte arrived is retried
// once on a fresh connection (the server may have closed it while idle), unless the caller says
// it must not reach the server twice (RFC 9110 §9.2.2) or its body was streamed; nothing else
// retries here: retrying on another server is the proxy's decision. A request body is streamed
// after the head (send_streaming, write_body, end_body) with the socket's unsent bytes exposed for
// flow control. Over TLS the handshake runs inside the
// connect timeout, and a server refusing our certificate (which TLS 1.3 reports only after the
// client's side finished) fails the request as UpstreamError::Tls.
#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "common/http/message.h"
#include "common/net/address.h"
#include "common/net/stream.h"
#include "common/net/tls_client_context.h"
#include "common/net/tls_failures.h"
#include "common/net/tls_resumption.h"
#include "common/net/uv_handle.h"
#include "common/net/worker.h"
#include "common/util/bytes.h"

namespace cdn::http {

struct UpstreamTimeouts {
  int64_t connect_ms = 2000;
  int64_t first_byte_ms = 10000;
  int64_t idle_ms = 30000;  // between body reads, and for pooled idle connections
};

enum class UpstreamError { None, Connect, ConnectTimeout, FirstByteTimeout, IdleTimeout, Reset, BadResponse, Cancelled, Tls };
const char* to_string(UpstreamError e);

class UpstreamCallbacks {
 public:
  virtual ~UpstreamCallbacks() = default;
  virtual void on_upstream_head(int status, Headers&& headers) = 0;
  // An interim response (102, 103, ...) before the head; ignored unless overridden.
  virtual void on_upstream_interim(int status, Headers&& headers) {
    (void)status;
    (void)headers;
  }
  virtual void on_upstream_body(const Bytes& chunk) = 0;
  // A streamed request body's unsent bytes fell to the pool's low-water mark: write more.
  virtual void on_upstream_writable() {}
  // complete=false: the body is truncated or the request failed (err says why); never cache it.
  virtual void on_upstream_end(bool complete, UpstreamError err) = 0;
};

class UpstreamConnection;

// TLS to one upstream server: the client context (current one taken per connection, so a reload
// applies to new connections) and the name its certificate must carry (a DNS name, also sent as
// SNI, or an IP literal). No context = plain TCP.
struct UpstreamTls {
  std::shared_ptr<net::TlsClientContextHolder> context;
  std::string peer_name;
};

class UpstreamPool {
 public:
  UpstreamPool(net::Worker* w, net::SockAddr addr, UpstreamTimeouts t, size_t max_idle = 64, UpstreamTls tls = {});
  ~UpstreamPool();
  // `head` is the full request head (request line + headers + CRLF). Callbacks run on this loop;
  // the callbacks object must stay valid until on_upstream_end or cancel().
  // Returns a token; cancel(token) stops delivery and closes the connection (a paced fill whose
  // viewers all left stops fetching a body nobody stores).
  // `may_retry` false: the request is not idempotent, so a stale idle connection fails it
  // instead of sending it again. `first_byte_ms` > 0 replaces the pool's first-byte timeout for
  // this request (an LL-HLS blocking reload is held upstream for up to three target durations).
  uint64_t send(std::string head, bool is_head_request, UpstreamCallbacks* cb,
                bool may_retry = true, int64_t first_byte_ms = 0);
  // A request whose body follows its head: the caller writes the body's bytes, framed as the head
  // declared, with write_body() and says end_body() after the last. Never retried: its body is
  // not kept. Until the body ended, the first-byte timeout waits and idle_ms bounds the time
  // without progress on the socket.
  uint64_t send_streaming(std::string head, UpstreamCallbacks* cb);
  // False once the request is over (answered, failed or cancelled): stop producing.
  bool write_body(uint64_t token, const Bytes& bytes);
  void end_body(uint64_t token);
  // Request bytes written for `token` that the socket has not taken yet (all of them before the
  // connection is up); on_upstream_writable() fires when they fall to body_low_water.
  size_t unsent_bytes(uint64_t token) const;
  static constexpr size_t body_low_water = 64 * 1024;
  void cancel(uint64_t token);
  // Flow control: stop reading the response (no idle timeout while paused), then go on.
  void pause(uint64_t token);
  void resume(uint64_t token);
  const net::SockAddr& address() const { return addr_; }
  size_t idle_count() const { return idle_.size(); }
  // Why this pool's latest UpstreamError::Tls failed (for a client that reports it, e.g. cdnctl).
  net::TlsFailure last_tls_failure() const { return last_tls_failure_; }

 private:
  friend class UpstreamConnection;
  struct Start {
    bool is_head = false;
    bool allow_retry = true;
    bool body_follows = false;
    int64_t first_byte_ms = 0;  // 0: the pool's
  };
  void start(std::string head, UpstreamCallbacks* cb, uint64_t token, Start how);
  void release(UpstreamConnection* c, bool reusable);
  UpstreamConnection* busy_with(uint64_t token) const;

  net::Worker* worker_;
  net::SockAddr addr_;
  UpstreamTimeouts timeouts_;
  size_t max_idle_;
  UpstreamTls tls_;
  net::TlsResumption resumption_;  // this loop's latest session with the server
  net::TlsFailure last_tls_failure_ = net::TlsFailure::UpstreamProtocol;
  uint64_t next_token_ = 1;
  std::deque<UpstreamConnection*> idle_;
  std::vector<std::unique_ptr<UpstreamConnection>> all_;
};

}  // namespace cdn::http
