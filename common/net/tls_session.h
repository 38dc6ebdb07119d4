#pragma once
// One TLS connection driven through memory BIOs: the socket I/O stays with libuv, OpenSSL only
// transforms bytes. That keeps TLS and plain connections on the same read/write path.
#include <memory>
#include <string>

#include "common/net/openssl_ptr.h"
#include "common/net/tls_context.h"

namespace cdn::net {

class TlsSession {
 public:
  enum class Status { Ok, Error, Closed };
  explicit TlsSession(std::shared_ptr<TlsContext> ctx);  // server side
  // Feeds ciphertext from the network; appends decrypted bytes to `plain`.
  Status feed(const char* data, size_t len, std::string& plain);
  // Encrypts plaintext; the records are queued for take_ciphertext().
  Status write(const char* data, size_t len);
  // Moves out every pending ciphertext byte (handshake messages included).
  std::string take_ciphertext();
  bool has_ciphertext() const;
  bool handshake_done() const { return SSL_is_init_finished(ssl_.get()) == 1; }
  void shutdown() { SSL_shutdown(ssl_.get()); }
  const std::string& last_error() const { return error_; }
  std::string sni() const;

 private:
  std::shared_ptr<TlsContext> ctx_;
  SslPtr ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  std::string error_;
};

}  // namespace cdn::net
