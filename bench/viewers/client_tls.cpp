#include "bench/viewers/client_tls.h"

#include <openssl/err.h>

#include <algorithm>

#include "common/net/tls_context.h"

namespace cdn::viewers {

Result<net::SslCtxPtr> make_client_tls_context(const std::string& ca_file) {
  net::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error{"SSL_CTX_new: " + net::openssl_error_string()};
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn);
  SSL_CTX_set_session_cache_mode(ctx.get(),
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  if (ca_file.empty()) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1)
      return Error{"loading " + ca_file + ": " + net::openssl_error_string()};
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

ClientTls::ClientTls(SSL_CTX* ctx, const std::string& sni, SSL_SESSION* resume)
    : ssl_(SSL_new(ctx)) {
  if (!ssl_) return;
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in_, -1);  // an empty input means "more later", not EOF
  SSL_set_bio(ssl_.get(), in_, out_);
  SSL_set_connect_state(ssl_.get());
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl_.get(), sni.c_str());
  if (resume) SSL_set_session(ssl_.get(), resume);
}

ClientTls::~ClientTls() {
  // The player closes on purpose (it left, or the server closed): without this, SSL_free would
  // take the connection for a failed one and mark its session, which the player keeps, not
  // resumable.
  if (ssl_ && handshake_done())
    SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

ClientTls::Status ClientTls::step() {
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) return Status::Ok;
  int e = SSL_get_error(ssl_.get(), r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::Ok;
  error_ = "handshake: " + net::openssl_error_string();
  return Status::Error;
}

ClientTls::Status ClientTls::start() {
  if (!ssl_) {
    error_ = "SSL_new failed";
    return Status::Error;
  }
  return step();
}

ClientTls::Status ClientTls::feed(const char* data, size_t len, std::string& plain) {
  // In slices of about one record: a memory BIO keeps the buffer of the largest write it took, and
  // a whole socket read (64 KiB) would stay allocated in every idle player's connection.
  constexpr size_t kSlice = 16 * 1024 + 512;
  do {
    size_t n = std::min(len, kSlice);
    if (n && BIO_write(in_, data, int(n)) != int(n)) {
      error_ = "BIO_write failed";
      return Status::Error;
    }
    data += n;
    len -= n;
    if (drain(plain) != Status::Ok) return Status::Error;
  } while (len > 0);
  return Status::Ok;
}

ClientTls::Status ClientTls::drain(std::string& plain) {
  if (!handshake_done() && step() == Status::Error) return Status::Error;
  if (!handshake_done()) return Status::Ok;
  char buf[16384];
  for (;;) {
    int n = SSL_read(ssl_.get(), buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, size_t(n));
      continue;
    }
    int e = SSL_get_error(ssl_.get(), n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::Ok;
    if (e == SSL_ERROR_ZERO_RETURN) return Status::Ok;  // close_notify: the socket's EOF follows
    error_ = "read: " + net::openssl_error_string();
    return Status::Error;
  }
}

ClientTls::Status ClientTls::write(const std::string& plain) {
  if (plain.empty()) return Status::Ok;
  int n = SSL_write(ssl_.get(), plain.data(), int(plain.size()));
  if (n == int(plain.size())) return Status::Ok;
  error_ = "write: " + net::openssl_error_string();
  return Status::Error;
}

SSL_SESSION* ClientTls::session() const {
  SSL_SESSION* s = SSL_get1_session(ssl_.get());
  if (s && SSL_SESSION_is_resumable(s) != 1) {  // TLS 1.3 before its ticket arrived
    SSL_SESSION_free(s);
    return nullptr;
  }
  return s;
}

std::string ClientTls::take_output() {
  std::string out;
  char* p = nullptr;
  long n = BIO_get_mem_data(out_, &p);
  if (n > 0) out.assign(p, size_t(n));
  (void)BIO_reset(out_);
  return out;
}

}  // namespace cdn::viewers
