#include "common/net/tls_session.h"

#include <openssl/err.h>

namespace cdn::net {

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)), ssl_(ctx_->new_ssl()) {
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_.get(), rbio_, wbio_);
  SSL_set_accept_state(ssl_.get());
}

TlsSession::Status TlsSession::feed(const char* data, size_t len, std::string& plain) {
  if (len > 0 && BIO_write(rbio_, data, int(len)) != int(len)) return Status::Error;
  char buf[16384];
  while (true) {
    int n = SSL_read(ssl_.get(), buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, size_t(n));
      continue;
    }
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::Ok;
    if (err == SSL_ERROR_ZERO_RETURN) return Status::Closed;
    error_ = openssl_error_string();
    return Status::Error;
  }
}

TlsSession::Status TlsSession::write(const char* data, size_t len) {
  while (len > 0) {
    int n = SSL_write(ssl_.get(), data, int(len > (1 << 30) ? (1 << 30) : len));
    if (n <= 0) {
      error_ = openssl_error_string();
      return Status::Error;
    }
    data += n;
    len -= size_t(n);
  }
  return Status::Ok;
}

bool TlsSession::has_ciphertext() const { return BIO_ctrl_pending(wbio_) > 0; }

std::string TlsSession::take_ciphertext() {
  std::string out;
  size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return out;
  out.resize(pending);
  int n = BIO_read(wbio_, out.data(), int(pending));
  out.resize(n > 0 ? size_t(n) : 0);
  return out;
}

std::string TlsSession::sni() const {
  const char* n = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return n ? n : "";
}

}  // namespace cdn::net
