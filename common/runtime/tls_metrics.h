#pragma once
// cdn_tls_handshake_failures_total{reason} and cdn_upstream_tls_handshakes_total{resumed}: the net
// layer's TLS counts as metrics.
#include "common/obs/metrics.h"

namespace cdn::runtime {

// Call from a metrics collector: brings the counters up to the net layer's counts.
void export_tls_failures(obs::Registry& r);

}  // namespace cdn::runtime
