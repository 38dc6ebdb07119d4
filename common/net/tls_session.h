#pragma once
// One TLS connection: ciphertext comes in through a BIO that reads the caller's buffer in place,
// and goes out through a BIO that appends straight into a caller's buffer, so the socket I/O stays
// with libuv and no per-connection ciphertext buffer outlives a read or a write. OpenSSL's own
// record buffers (about 34 KiB) are freed after each record (SSL_MODE_RELEASE_BUFFERS) unless the
// owner asks to keep them while the connection is busy.
#include <memory>
#include <string>

#include "common/net/openssl_ptr.h"
#include "common/net/tls_context.h"
#include "common/net/tls_failures.h"

namespace cdn::net {

class TlsSession {
 public:
  enum class Status { Ok, Error, Closed };
  explicit TlsSession(std::shared_ptr<TlsContext> ctx);  // server side
  // Client side of a connection we open; `ssl` comes from TlsClientContext::new_ssl.
  static std::unique_ptr<TlsSession> client(SslPtr ssl);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Feeds ciphertext from the network; appends decrypted bytes to `plain`. Handshake replies
  // and alerts are kept for take_ciphertext().
  Status feed(const char* data, size_t len, std::string& plain);
  // Encrypts plaintext into records appended to `out` (one record per 16 KiB).
  Status write_to(std::string& out, const char* data, size_t len);
  // Moves out protocol output produced outside write_to() (handshake, tickets, close_notify).
  std::string take_ciphertext();
  bool has_ciphertext() const { return !protocol_out_.empty(); }
  bool handshake_done() const { return SSL_is_init_finished(ssl_.get()) == 1; }
  void shutdown();
  // keep = true: OpenSSL's record buffers stay between records (no allocation and free of both
  // for every request of a busy keep-alive connection); false: they go now, unless they hold
  // unread input, and after every record from then on.
  void keep_buffers(bool keep);
  const std::string& last_error() const { return error_; }
  std::string sni() const;
  // Why the last Error happened, by kind (set with last_error()).
  TlsFailure failure() const { return failure_; }
  // The protocol ALPN chose ("h2", "http/1.1"), empty when none was negotiated.
  std::string_view alpn() const;
  // For what this class does not wrap (a client's session to resume, whether it was resumed).
  SSL* native_handle() const { return ssl_.get(); }

 private:
  explicit TlsSession(SslPtr client_ssl);
  void attach_bios();
  std::shared_ptr<TlsContext> ctx_;  // null on the client side (the SSL holds its SSL_CTX)
  SslPtr ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_; reads come from feed()'s data
  BIO* wbio_ = nullptr;  // owned by ssl_; writes go to *out_
  std::string protocol_out_;
  std::string error_;
  TlsFailure failure_ = TlsFailure::Protocol;
};

}  // namespace cdn::net
