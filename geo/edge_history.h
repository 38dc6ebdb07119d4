#pragma once
// The last hour of every edge as the poller saw it, for the fleet page's plots: each poll lands in
// a 10 s bucket (health, connections, egress, and the deltas of the edge's cumulative /healthz
// counters, from which the bucket's hit ratio and request rates come). Bounded: 360 buckets per
// edge. Written by the poller's loop, read by the admin listener's: one mutex, held briefly.
// Owned across reloads (edges that stay keep their history; removed ones are dropped).
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "geo/edge_health.h"

namespace cdn::geo {

// `v` printed with `fmt` (a printf format for one double), or null when negative (not measured).
std::string json_number_or_null(double v, const char* fmt);

class EdgeHistory {
 public:
  static constexpr int64_t kBucketMs = 10'000;
  static constexpr size_t kBuckets = 360;  // one hour

  void record(int64_t now_ms, const EdgeStatus& s, const PollResult& r);
  RecentRates recent(int64_t now_ms, int64_t window_ms) const;
  // [[start_ms, up share, connections, egress bit/s, hit ratio, requests/s, 5xx/s, sessions],...]
  // with null where a bucket measured nothing.
  void append_json(std::string& j) const;

 private:
  struct Bucket {
    int64_t start_ms = 0;
    uint32_t polls = 0, up = 0, answered = 0;
    double connections = 0, egress_bps = 0;  // sums over answered polls
    uint64_t lookups = 0, hits = 0, requests = 0, errors_5xx = 0;
    int64_t covered_ms = 0;  // time the counter deltas span
    int64_t sessions = -1;   // the last answer's, -1: not reported
  };
  std::deque<Bucket> buckets_;
  // The last answered poll's cumulative counters, to take deltas from.
  bool have_last_ = false;
  int64_t last_ms_ = 0;
  Counters last_;
};

class FleetHistory {
 public:
  void record(const std::string& edge, int64_t now_ms, const EdgeStatus& s, const PollResult& r);
  RecentRates recent(const std::string& edge, int64_t now_ms, int64_t window_ms) const;
  // Keeps the history of these edges only (after a reload).
  void retain(const std::vector<std::string>& edges);
  // GET /history: {"bucket_ms":…,"now_ms":…,"edges":{"<name>":[buckets…],…}}
  std::string json(int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, EdgeHistory> edges_;
};

}  // namespace cdn::geo
