#pragma once
// Why TLS handshakes fail, counted process-wide. The net layer sits below metrics, so it keeps
// plain atomic counters per reason and the program exports them as
// cdn_tls_handshake_failures_total{reason}. Server-side reasons describe the peer (a client
// certificate missing or untrusted); reasons of our own upstream connections start "upstream-".
#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace cdn::net {

enum class TlsFailure {
  ClientCertificateMissing,      // we demand a client certificate and got none
  ClientCertificateUntrusted,    // the client's certificate does not chain to our client_ca
  PeerRejectedCertificate,       // a client refused our server certificate (alert)
  Protocol,                      // anything else on an accepted connection (plain HTTP, versions)
  UpstreamCertificateUntrusted,  // the upstream's certificate does not chain to our CA
  UpstreamNameMismatch,          // ... chains, but is not for the name or IP we connect to
  UpstreamRejectedCertificate,   // the upstream refused our client certificate (or its absence)
  UpstreamProtocol,              // anything else on a connection we opened
  Count
};

std::string_view to_string(TlsFailure f);

// Reads the reason of the error OpenSSL just reported on `ssl` (call before the error queue is
// drained). `client`: the connection is one we opened.
TlsFailure classify_tls_failure(const SSL* ssl, bool client);

class TlsFailureCounts {
 public:
  void add(TlsFailure f) { counts_[size_t(f)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t get(TlsFailure f) const { return counts_[size_t(f)].load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, size_t(TlsFailure::Count)> counts_{};
};

TlsFailureCounts& tls_failures();

}  // namespace cdn::net
