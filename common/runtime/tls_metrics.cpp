#include "common/runtime/tls_metrics.h"

#include "common/net/tls_client_context.h"
#include "common/net/tls_failures.h"
#include "common/net/tls_resumption.h"

namespace cdn::runtime {

namespace {

// The collector is the only writer, so a counter trails its source by exactly the difference.
void catch_up(obs::Counter& c, uint64_t source) {
  if (source > c.value()) c.inc(source - c.value());
}

}  // namespace

void export_tls_failures(obs::Registry& r) {
  for (size_t i = 0; i < size_t(net::TlsFailure::Count); ++i) {
    auto f = net::TlsFailure(i);
    obs::Counter& c =
        r.counter("cdn_tls_handshake_failures_total",
                  "TLS handshakes that failed, on accepted connections and on ours to upstreams",
                  {{"reason", std::string(net::to_string(f))}});
    catch_up(c, net::tls_failures().get(f));
  }
  auto& hs = net::tls_client_handshakes();
  for (auto [resumed, source] : {std::pair{"true", &hs.resumed}, std::pair{"false", &hs.full}}) {
    obs::Counter& c = r.counter("cdn_upstream_tls_handshakes_total",
                                "TLS handshakes on our upstream connections, resumed or full",
                                {{"resumed", resumed}});
    catch_up(c, source->load(std::memory_order_relaxed));
  }
}

}  // namespace cdn::runtime
