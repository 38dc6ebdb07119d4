#pragma once
// The client side of a TLS handshake on a connected TCP handle, run on the handle's loop with
// non-blocking reads and writes, before a Stream takes the connection over (a Stream encrypts
// what it is given at once, which needs a finished handshake). The TCP handle stays the
// caller's: it closes it on failure and hands it, with take_session(), to a Stream on success.
#include <uv.h>

#include <functional>
#include <memory>

#include "common/net/tls_session.h"

namespace cdn::net {

class TlsClientHandshake {
 public:
  // `done(ok)` runs once, on the loop; on failure session().failure() and last_error() say why.
  // It may destroy the handshake object.
  TlsClientHandshake(uv_tcp_t* tcp, std::unique_ptr<TlsSession> session,
                     std::function<void(bool ok)> done);
  ~TlsClientHandshake();
  TlsClientHandshake(const TlsClientHandshake&) = delete;
  TlsClientHandshake& operator=(const TlsClientHandshake&) = delete;

  void start();
  const TlsSession& session() const { return *session_; }
  std::unique_ptr<TlsSession> take_session() { return std::move(session_); }

 private:
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  void feed(const char* data, size_t len);
  bool send_pending();
  void finish(bool ok);

  uv_tcp_t* tcp_;
  std::unique_ptr<TlsSession> session_;
  std::function<void(bool)> done_;
  bool finished_ = false;
};

}  // namespace cdn::net
