#pragma once
// Resuming TLS sessions on the connections we open, and how often it worked.
#include <atomic>
#include <cstdint>
#include <memory>

#include "common/net/openssl_ptr.h"

namespace cdn::net {

// The latest session one server gave us (a TLS 1.3 ticket or a 1.2 session), offered on the next
// connection to it so that one resumes instead of running a full handshake (after an idle pooled
// connection closed, or the server closed one). One per pool: one loop's connections to one
// server, so not thread-safe. A session is offered only to SSLs of the context that made it, so
// one made before a reload never skips the new CA's check.
class TlsResumption {
 public:
  // Offers the kept session to `ssl` and keeps the sessions its handshake brings.
  void attach(SSL* ssl);

 private:
  struct SessionFree {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
  };
  friend class TlsClientContext;  // installs on_new_session on its SSL_CTX
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  std::unique_ptr<SSL_SESSION, SessionFree> session_;
  SslCtxPtr session_ctx_;  // a reference to the context the session came from
};

// Handshakes of our upstream connections, full and resumed (process-wide, for metrics).
struct TlsClientHandshakes {
  std::atomic<uint64_t> full{0}, resumed{0};
};
TlsClientHandshakes& tls_client_handshakes();

}  // namespace cdn::net
