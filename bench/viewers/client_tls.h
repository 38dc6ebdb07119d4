#pragma once
// The client side of TLS for the simulated players: one SSL_CTX per process (TLS 1.2+, ALPN
// http/1.1, the server certificate checked against a CA file when one is given), and a session
// on the project's TlsSession, whose BIOs read the socket's bytes in place and write records
// straight into the caller's buffer (a memory BIO pair copied and reallocated every record). A
// player that reconnects offers its last session for resumption, as a browser does.
#include <memory>
#include <string>

#include "common/net/openssl_ptr.h"
#include "common/net/tls_session.h"
#include "common/util/result.h"

namespace cdn::viewers {

// ca_file empty: the certificate is not verified (a benchmark's self-signed one).
Result<net::SslCtxPtr> make_client_tls_context(const std::string& ca_file);

class ClientTls {
 public:
  enum class Status { Ok, Error };
  ClientTls(SSL_CTX* ctx, const std::string& sni, SSL_SESSION* resume);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;
  // Starts the handshake; the ClientHello is in take_output() afterwards.
  Status start();
  // Ciphertext from the socket in; plaintext appended to `plain`.
  Status feed(const char* data, size_t len, std::string& plain);
  // Plaintext to encrypt; the records land in take_output().
  Status write(const std::string& plain);
  std::string take_output();
  bool handshake_done() const { return tls_ && tls_->handshake_done(); }
  bool resumed() const { return tls_ && SSL_session_reused(tls_->native_handle()) == 1; }
  // The session to offer on the next connection (a reference the caller frees), or null.
  SSL_SESSION* session() const;
  const std::string& error() const { return error_; }

 private:
  Status failed(const char* what);
  std::unique_ptr<net::TlsSession> tls_;
  std::string out_;  // records written, then the protocol's own output
  std::string error_;
};

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

}  // namespace cdn::viewers
