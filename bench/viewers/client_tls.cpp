#include "bench/viewers/client_tls.h"

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

ClientTls::ClientTls(SSL_CTX* ctx, const std::string& sni, SSL_SESSION* resume) {
  net::SslPtr ssl(SSL_new(ctx));
  if (!ssl) return;
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  if (resume) SSL_set_session(ssl.get(), resume);
  tls_ = net::TlsSession::client(std::move(ssl));
}

ClientTls::~ClientTls() {
  // The player closes on purpose (it left, or the server closed): without this, SSL_free would
  // take the connection for a failed one and mark its session, which the player keeps, not
  // resumable.
  if (handshake_done())
    SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

ClientTls::Status ClientTls::failed(const char* what) {
  error_ = std::string(what) + ": " + (tls_ ? tls_->last_error() : "SSL_new failed");
  return Status::Error;
}

ClientTls::Status ClientTls::start() {
  std::string none;
  return feed(nullptr, 0, none);  // the first read sends the ClientHello
}

ClientTls::Status ClientTls::feed(const char* data, size_t len, std::string& plain) {
  if (!tls_) return failed("handshake");
  bool was_done = tls_->handshake_done();
  // Closed is a close_notify: the socket's EOF follows.
  if (tls_->feed(data, len, plain) == net::TlsSession::Status::Error)
    return failed(was_done ? "read" : "handshake");
  return Status::Ok;
}

ClientTls::Status ClientTls::write(const std::string& plain) {
  if (plain.empty()) return Status::Ok;
  if (!tls_ || tls_->write_to(out_, plain.data(), plain.size()) != net::TlsSession::Status::Ok)
    return failed("write");
  return Status::Ok;
}

SSL_SESSION* ClientTls::session() const {
  if (!tls_) return nullptr;
  SSL_SESSION* s = SSL_get1_session(tls_->native_handle());
  if (s && SSL_SESSION_is_resumable(s) != 1) {  // TLS 1.3 before its ticket arrived
    SSL_SESSION_free(s);
    return nullptr;
  }
  return s;
}

std::string ClientTls::take_output() {
  std::string out;
  out.swap(out_);
  if (tls_ && tls_->has_ciphertext()) out += tls_->take_ciphertext();
  return out;
}

}  // namespace cdn::viewers
