#pragma once
// Client-side TLS configuration for connections we open (edge → shield, shield → origin): TLS
// 1.2/1.3, the peer's certificate verified against a CA file (or the system store) and checked
// for the name or IP we dial, SNI sent for names, an optional client certificate (mTLS).
// Immutable once built and shared by every pool that dials with it; each SSL it makes holds a
// reference to the SSL_CTX, so a connection outlives a replaced context safely.
#include <memory>
#include <string>

#include "common/net/openssl_ptr.h"
#include "common/net/swappable.h"
#include "common/util/result.h"

namespace cdn::net {

struct TlsClientOptions {
  std::string ca_file;    // PEM bundle of trusted CAs; empty = the system's default store
  std::string cert_file;  // client certificate chain (PEM); empty = none
  std::string key_file;   // its private key; required with cert_file
};

class TlsClientContext {
 public:
  static Result<std::shared_ptr<TlsClientContext>> create(const TlsClientOptions& opts);
  // A client SSL for one connection to `peer_name`: a DNS name (sent as SNI and matched against
  // the certificate's names) or an IP literal (matched against its IP addresses, no SNI).
  // Null (with the reason in `error`) when OpenSSL refuses.
  SslPtr new_ssl(const std::string& peer_name, std::string& error) const;

 private:
  SslCtxPtr ctx_;
};

// The context an upstream set dials with now; SIGHUP re-reads its files into a new one.
using TlsClientContextHolder = Swappable<TlsClientContext>;

}  // namespace cdn::net
