#pragma once
// Server-side TLS configuration: TLS 1.2/1.3 only, ALPN h2 (when enabled) then http/1.1, SNI across several
// certificates, session resumption (cache + tickets). Immutable once built; a SIGHUP builds a new
// one and swaps it in TlsContextHolder, so live connections keep the context they started with.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/net/openssl_ptr.h"
#include "common/net/swappable.h"
#include "common/util/result.h"

namespace cdn::net {

struct CertPair {
  std::string cert_path, key_path;
};

struct TlsOptions {
  std::vector<CertPair> certificates;  // the first is the default for unknown or absent SNI
  bool session_tickets = true;
  int tickets_per_handshake = 1;  // TLS 1.3 NewSessionTicket messages after a full handshake
  long session_cache_size = 20480;
  std::string ciphersuites;  // TLS 1.3, OpenSSL syntax; empty: OpenSSL's default
  std::string ciphers;       // TLS 1.2, OpenSSL syntax; empty: OpenSSL's default
  std::string client_ca;  // non-empty: clients must show a certificate this CA file signed (mTLS)
  bool http2 = false;  // ALPN offers h2 before http/1.1
};

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> create(const TlsOptions& opts);
  SSL_CTX* default_ctx() const { return entries_.front().ctx.get(); }
  // New server-side SSL for an accepted connection; the context stays alive while the SSL does.
  SslPtr new_ssl() const;
  const std::vector<std::string>& names(size_t i) const { return entries_[i].names; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    SslCtxPtr ctx;
    std::vector<std::string> names;  // DNS names from SAN (and CN), lowercase; "*.x" wildcards
  };
  static int on_servername(SSL* ssl, int* alert, void* arg);
  SSL_CTX* match(std::string_view server_name) const;
  std::vector<Entry> entries_;
};

using TlsContextHolder = Swappable<TlsContext>;

// A client context for upstream HTTPS (not used between tiers on loopback by default).
std::string openssl_error_string();

}  // namespace cdn::net
