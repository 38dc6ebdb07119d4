#include "common/runtime/health_report.h"

#include <cstdio>
#include <mutex>

#include "common/obs/log.h"

namespace cdn::runtime {

namespace {

struct StatusCounters {
  std::mutex mu;
  std::vector<std::pair<int, obs::Counter*>> all;
};

StatusCounters& status_counters() {
  static StatusCounters* s = new StatusCounters();  // never destroyed: workers may still count
  return *s;
}

}  // namespace

obs::Counter& requests_counter(int status, std::string_view protocol,
                               std::string_view service_label) {
  // Status codes and protocols are few; one lookup per pair and thread, then a plain reference.
  // The key packs the status with the protocol's length ("HTTP/1.1" and "HTTP/2" differ in it).
  int key = status * 16 + int(protocol.size() & 15);
  struct Cached {
    int key;
    std::string service;
    obs::Counter* counter;
  };
  thread_local std::vector<Cached> cache;
  for (auto& e : cache)
    if (e.key == key && e.service == service_label) return *e.counter;
  obs::Labels labels{{"status", std::to_string(status)}, {"protocol", std::string(protocol)}};
  if (!service_label.empty()) labels.emplace_back("service", std::string(service_label));
  auto& c = obs::metrics().counter("cdn_requests_total",
                                   "Requests answered, by status, protocol and service", labels);
  cache.push_back({key, std::string(service_label), &c});
  StatusCounters& sc = status_counters();
  std::lock_guard lk(sc.mu);
  bool known = false;
  for (auto& [s, p] : sc.all) known = known || p == &c;
  if (!known) sc.all.push_back({status, &c});
  return c;
}

RequestTotals request_totals() {
  StatusCounters& sc = status_counters();
  std::lock_guard lk(sc.mu);
  RequestTotals t;
  for (auto& [s, c] : sc.all) {
    uint64_t v = c->value();
    t.requests += v;
    if (s >= 500) t.errors_5xx += v;
  }
  return t;
}

std::string to_json(const HealthReport& r) {
  char buf[512];
  snprintf(buf, sizeof buf,
           "{\"status\":\"%s\",\"tier\":\"%s\",\"node\":\"%s\",\"draining\":%s,\"drain_phase\":%d,"
           "\"active_connections\":%zu,\"egress_bytes_per_s\":%.0f,\"egress_bytes_total\":%llu,"
           "\"capacity\":{\"max_connections\":%u,\"workers\":%zu},\"requests_total\":%llu,"
           "\"responses_5xx_total\":%llu",
           r.draining ? "draining" : "ok", r.tier.c_str(), obs::json_escape(r.node).c_str(),
           r.draining ? "true" : "false", r.drain_phase, r.active_connections, r.egress_bytes_per_s,
           (unsigned long long)r.egress_bytes_total, r.max_connections, r.workers,
           (unsigned long long)r.requests.requests, (unsigned long long)r.requests.errors_5xx);
  std::string j = buf;
  for (auto& [k, v] : r.extra) j += ",\"" + obs::json_escape(k) + "\":" + std::to_string(v);
  j += "}\n";
  return j;
}

}  // namespace cdn::runtime
