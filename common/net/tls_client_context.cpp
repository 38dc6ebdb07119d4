#include "common/net/tls_client_context.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include "common/net/tls_certificate.h"
#include "common/net/tls_context.h"
#include "common/net/tls_resumption.h"

namespace cdn::net {

namespace {

bool is_ip_literal(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::create(const TlsClientOptions& opts) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return make_error("tls: " + openssl_error_string());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (opts.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
      return make_error("cannot load the system's CA store: " + openssl_error_string());
  } else if (SSL_CTX_load_verify_locations(ctx.get(), opts.ca_file.c_str(), nullptr) != 1) {
    return make_error(opts.ca_file + ": cannot load CA certificates: " + openssl_error_string());
  }
  if (opts.cert_file.empty() != opts.key_file.empty())
    return make_error("a client certificate needs both cert and key");
  if (!opts.cert_file.empty())
    if (auto r = use_certificate(ctx.get(), opts.cert_file, opts.key_file); !r) return r.error();
  // Only HTTP/1.1 is spoken upstream; saying so keeps an ALPN-enforcing server from guessing.
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx.get(), kHttp11, sizeof kHttp11);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_cache_mode(ctx.get(),
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx.get(), &TlsResumption::on_new_session);
  auto tc = std::shared_ptr<TlsClientContext>(new TlsClientContext());
  tc->ctx_ = std::move(ctx);
  return tc;
}

SslPtr TlsClientContext::new_ssl(const std::string& peer_name, std::string& error) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  bool ok = ssl != nullptr;
  if (ok && is_ip_literal(peer_name)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), peer_name.c_str()) == 1;
  } else if (ok) {
    // SNI and the name check: a certificate for another host is refused in the handshake.
    ok = SSL_set_tlsext_host_name(ssl.get(), peer_name.c_str()) == 1 &&
         SSL_set1_host(ssl.get(), peer_name.c_str()) == 1;
  }
  if (!ok) {
    error = openssl_error_string();
    return nullptr;
  }
  return ssl;
}

}  // namespace cdn::net
