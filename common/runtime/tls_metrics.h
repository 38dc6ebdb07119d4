#pragma once
// cdn_tls_handshake_failures_total{reason}: the net layer's TLS failure counts as metrics.
#include "common/obs/metrics.h"

namespace cdn::runtime {

// Call from a metrics collector: brings the counters up to the net layer's counts.
void export_tls_failures(obs::Registry& r);

}  // namespace cdn::runtime
