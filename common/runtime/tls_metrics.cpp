#include "common/runtime/tls_metrics.h"

#include "common/net/tls_failures.h"

namespace cdn::runtime {

void export_tls_failures(obs::Registry& r) {
  for (size_t i = 0; i < size_t(net::TlsFailure::Count); ++i) {
    auto f = net::TlsFailure(i);
    obs::Counter& c = r.counter("cdn_tls_handshake_failures_total",
                                "TLS handshakes that failed, on accepted connections and on ours to upstreams",
                                {{"reason", std::string(net::to_string(f))}});
    // Only this collector moves the counter, so it trails the source by exactly the difference.
    if (uint64_t n = net::tls_failures().get(f); n > c.value()) c.inc(n - c.value());
  }
}

}  // namespace cdn::runtime
