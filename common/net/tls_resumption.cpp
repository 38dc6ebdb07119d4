#include "common/net/tls_resumption.h"

namespace cdn::net {

namespace {

int resumption_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

void TlsResumption::attach(SSL* ssl) {
  SSL_set_ex_data(ssl, resumption_index(), this);
  if (session_ && session_ctx_.get() == SSL_get_SSL_CTX(ssl) &&
      SSL_SESSION_is_resumable(session_.get()))
    SSL_set_session(ssl, session_.get());
}

int TlsResumption::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsResumption*>(SSL_get_ex_data(ssl, resumption_index()));
  if (!self) return 0;
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  if (self->session_ctx_.get() != ctx) {
    SSL_CTX_up_ref(ctx);
    self->session_ctx_.reset(ctx);
  }
  // A copy: OpenSSL marks the connection's own session not resumable when that connection is
  // freed without a close_notify, which is how pooled connections usually end.
  self->session_.reset(SSL_SESSION_dup(session));
  return 0;  // the original stays OpenSSL's
}

TlsClientHandshakes& tls_client_handshakes() {
  static TlsClientHandshakes counts;
  return counts;
}

}  // namespace cdn::net
