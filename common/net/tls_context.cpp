#include "common/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "common/net/tls_certificate.h"
#include "common/net/tls_client_auth.h"
#include "common/util/strings.h"

namespace cdn::net {

std::string openssl_error_string() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

static int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                       unsigned int inlen, void* arg) {
  // Server preference: the first of ours that the client also offers.
  static const unsigned char kH2Http11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  bool http2 = arg != nullptr;
  const unsigned char* ours = http2 ? kH2Http11 : kH2Http11 + 3;
  unsigned int ours_len = http2 ? sizeof kH2Http11 : sizeof kH2Http11 - 3;
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, ours, ours_len, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;  // refusing beats a protocol we do not speak
}

static std::vector<std::string> cert_names(X509* x) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type == GEN_DNS) {
        const unsigned char* p = ASN1_STRING_get0_data(gn->d.dNSName);
        names.push_back(to_lower(std::string_view(reinterpret_cast<const char*>(p), ASN1_STRING_length(gn->d.dNSName))));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0)
      names.push_back(to_lower(cn));
  }
  return names;
}

static bool name_matches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    auto dot = host.find('.');
    return dot != std::string_view::npos && host.substr(dot) == pattern.substr(1);
  }
  return pattern == host;
}

SSL_CTX* TlsContext::match(std::string_view server_name) const {
  std::string host = to_lower(server_name);
  for (auto& e : entries_)
    for (auto& n : e.names)
      if (name_matches(n, host)) return e.ctx.get();
  return nullptr;
}

int TlsContext::on_servername(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  if (SSL_CTX* ctx = self->match(name); ctx && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsOptions& opts) {
  if (opts.certificates.empty()) return make_error("tls: no certificates");
  auto tc = std::shared_ptr<TlsContext>(new TlsContext());
  static const unsigned char kSidCtx[] = "cdn";
  for (auto& cp : opts.certificates) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return make_error("tls: " + openssl_error_string());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                       (opts.session_tickets ? 0 : SSL_OP_NO_TICKET));
    // Record buffers are freed after every record, so a resting or stalled connection holds
    // none; a busy keep-alive connection keeps them (Stream, TlsSession::keep_buffers).
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
    if (!opts.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx.get(), opts.ciphersuites.c_str()) != 1)
      return make_error("tls.ciphersuites: " + openssl_error_string());
    if (!opts.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), opts.ciphers.c_str()) != 1)
      return make_error("tls.ciphers: " + openssl_error_string());
    if (auto r = use_certificate(ctx.get(), cp.cert_path, cp.key_path); !r) return r.error();
    // A non-null argument (any) turns h2 on; the callback reads nothing through it.
    SSL_CTX_set_alpn_select_cb(ctx.get(), alpn_select, opts.http2 ? ctx.get() : nullptr);
    // OpenSSL sends two tickets by default; each is a session serialized, encrypted and MACed.
    SSL_CTX_set_num_tickets(ctx.get(), size_t(opts.tickets_per_handshake));
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx.get(), opts.session_cache_size);
    SSL_CTX_set_session_id_context(ctx.get(), kSidCtx, sizeof kSidCtx - 1);
    if (!opts.client_ca.empty())
      if (auto r = require_client_certificates(ctx.get(), opts.client_ca); !r) return r.error();
    Entry e;
    e.names = cert_names(SSL_CTX_get0_certificate(ctx.get()));
    e.ctx = std::move(ctx);
    tc->entries_.push_back(std::move(e));
  }
  SSL_CTX_set_tlsext_servername_callback(tc->default_ctx(), &TlsContext::on_servername);
  SSL_CTX_set_tlsext_servername_arg(tc->default_ctx(), tc.get());
  return tc;
}

SslPtr TlsContext::new_ssl() const { return SslPtr(SSL_new(default_ctx())); }

}  // namespace cdn::net
