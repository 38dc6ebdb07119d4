#pragma once
// The body of GET /healthz, which cdn-geo polls every second and operators read by hand: state
// (status, draining, drain phase), load against capacity, and cumulative counters (requests, 5xx,
// plus what a tier adds: cache lookups, stream sessions, live channels) from which a poller
// computes rates. Cheap by design: counters are read through handles, never by a registry scan.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/obs/metrics.h"

namespace cdn::runtime {

// cdn_requests_total{status,protocol[,service]}: the counter for one status, protocol and delivery
// service label (empty: no label), cached per thread. Every status counter made here is also kept
// in a process-wide list, so request_totals() sums a handful of handles.
obs::Counter& requests_counter(int status, std::string_view protocol = "HTTP/1.1",
                               std::string_view service_label = {});
struct RequestTotals {
  uint64_t requests = 0, errors_5xx = 0;
};
RequestTotals request_totals();

struct HealthReport {
  std::string tier;
  std::string node;
  bool draining = false;
  int drain_phase = 0;
  size_t active_connections = 0;
  double egress_bytes_per_s = 0;
  uint64_t egress_bytes_total = 0;
  uint32_t max_connections = 0;
  size_t workers = 0;
  RequestTotals requests;
  // Tier fields, in the order they were added ("cache_lookups_total", "stream_sessions", ...).
  std::vector<std::pair<std::string, uint64_t>> extra;
};
std::string to_json(const HealthReport& r);

// What a tier adds to /healthz: a name and how to read its value now (on the admin loop, while
// the program runs).
using HealthField = std::pair<std::string, std::function<uint64_t()>>;

}  // namespace cdn::runtime
