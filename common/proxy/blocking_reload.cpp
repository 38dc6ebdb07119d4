#include "common/proxy/blocking_reload.h"

#include <algorithm>

#include "common/http/query.h"
#include "common/obs/metrics.h"

namespace cdn::proxy {

bool is_blocking_reload(std::string_view query) {
  for (const http::QueryParam& p : http::QueryParams(query))
    if (p.name == "_HLS_msn") return true;
  return false;
}

bool is_hls_directive(std::string_view param_name) {
  return param_name.starts_with("_HLS_");
}

std::vector<std::string> without_hls_directives(std::vector<std::string> excluded) {
  std::erase_if(excluded, [](const std::string& name) { return is_hls_directive(name); });
  return excluded;
}

int64_t first_byte_wait_ms(std::string_view query, int64_t ordinary_ms, int64_t blocking_ms) {
  return is_blocking_reload(query) ? std::max(ordinary_ms, blocking_ms) : ordinary_ms;
}

namespace {

obs::Gauge& parked_gauge() {
  static obs::Gauge& g = obs::metrics().gauge(
      "cdn_blocking_reloads_waiting",
      "Viewers waiting for the answer to an LL-HLS blocking playlist reload (_HLS_msn)");
  return g;
}

}  // namespace

void ParkedViewer::park() {
  if (parked_) return;
  parked_ = true;
  parked_gauge().add(1);
}

void ParkedViewer::leave() {
  if (!parked_) return;
  parked_ = false;
  parked_gauge().add(-1);
}

}  // namespace cdn::proxy
