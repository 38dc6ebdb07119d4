#include "geo/edge_history.h"

#include <cstdio>

#include "common/obs/log.h"

namespace cdn::geo {

namespace {

// A counter's growth since the last answer; a smaller value means the edge restarted (counting
// from zero again), so all of it is new.
uint64_t delta(int64_t now, int64_t before) {
  if (now < 0) return 0;
  return before >= 0 && now >= before ? uint64_t(now - before) : uint64_t(now);
}

}  // namespace

std::string json_number_or_null(double v, const char* fmt) {
  if (v < 0) return "null";
  char buf[32];
  snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

void EdgeHistory::record(int64_t now_ms, const EdgeStatus& s, const PollResult& r) {
  const int64_t start = now_ms - now_ms % kBucketMs;
  if (buckets_.empty() || buckets_.back().start_ms != start) {
    buckets_.push_back(Bucket{});
    buckets_.back().start_ms = start;
  }
  while (buckets_.size() > kBuckets ||
         buckets_.front().start_ms <= start - int64_t(kBuckets) * kBucketMs)
    buckets_.pop_front();
  Bucket& b = buckets_.back();
  ++b.polls;
  if (s.health == EdgeStatus::Health::Up) ++b.up;
  if (!r.ok) return;
  ++b.answered;
  b.connections += double(r.connections);
  b.egress_bps += r.egress_bytes_per_s * 8;
  b.sessions = r.stream_sessions;
  if (have_last_) {
    b.requests += delta(r.counters.requests, last_.requests);
    b.errors_5xx += delta(r.counters.errors_5xx, last_.errors_5xx);
    b.lookups += delta(r.counters.cache_lookups, last_.cache_lookups);
    b.hits += delta(r.counters.cache_hits, last_.cache_hits);
    b.covered_ms += now_ms - last_ms_;
  }
  have_last_ = true;
  last_ms_ = now_ms;
  last_ = r.counters;
}

RecentRates EdgeHistory::recent(int64_t now_ms, int64_t window_ms) const {
  uint64_t lookups = 0, hits = 0, requests = 0, errors = 0;
  int64_t covered = 0;
  for (auto it = buckets_.rbegin();
       it != buckets_.rend() && it->start_ms + kBucketMs > now_ms - window_ms; ++it) {
    lookups += it->lookups;
    hits += it->hits;
    requests += it->requests;
    errors += it->errors_5xx;
    covered += it->covered_ms;
  }
  RecentRates r;
  if (lookups) r.hit_ratio = double(hits) / double(lookups);
  if (covered > 0) {
    r.requests_per_s = double(requests) * 1000.0 / double(covered);
    r.errors_5xx_per_s = double(errors) * 1000.0 / double(covered);
  }
  return r;
}

void EdgeHistory::append_json(std::string& j) const {
  j += '[';
  bool first = true;
  for (const Bucket& b : buckets_) {
    if (!first) j += ',';
    first = false;
    j += '[' + std::to_string(b.start_ms) + ',';
    j += json_number_or_null(b.polls ? double(b.up) / b.polls : -1, "%.3g");
    j += ',';
    j += json_number_or_null(b.answered ? b.connections / b.answered : -1, "%.1f");
    j += ',';
    j += json_number_or_null(b.answered ? b.egress_bps / b.answered : -1, "%.0f");
    j += ',';
    j += json_number_or_null(b.lookups ? double(b.hits) / double(b.lookups) : -1, "%.4f");
    j += ',';
    j += json_number_or_null(
        b.covered_ms > 0 ? double(b.requests) * 1000.0 / double(b.covered_ms) : -1, "%.2f");
    j += ',';
    j += json_number_or_null(
        b.covered_ms > 0 ? double(b.errors_5xx) * 1000.0 / double(b.covered_ms) : -1, "%.2f");
    j += ',';
    j += json_number_or_null(double(b.sessions), "%.0f");
    j += ']';
  }
  j += ']';
}

void FleetHistory::record(const std::string& edge, int64_t now_ms, const EdgeStatus& s,
                          const PollResult& r) {
  std::lock_guard lk(mu_);
  edges_[edge].record(now_ms, s, r);
}

RecentRates FleetHistory::recent(const std::string& edge, int64_t now_ms, int64_t window_ms) const {
  std::lock_guard lk(mu_);
  auto it = edges_.find(edge);
  return it == edges_.end() ? RecentRates{} : it->second.recent(now_ms, window_ms);
}

void FleetHistory::retain(const std::vector<std::string>& edges) {
  std::lock_guard lk(mu_);
  for (auto it = edges_.begin(); it != edges_.end();) {
    bool keep = false;
    for (auto& e : edges) keep = keep || e == it->first;
    it = keep ? std::next(it) : edges_.erase(it);
  }
}

std::string FleetHistory::json(int64_t now_ms) const {
  std::string j = "{\"bucket_ms\":" + std::to_string(EdgeHistory::kBucketMs) +
                  ",\"now_ms\":" + std::to_string(now_ms) +
                  ",\"columns\":[\"start_ms\",\"up\",\"connections\",\"egress_bps\",\"hit_ratio\","
                  "\"requests_per_s\",\"errors_5xx_per_s\",\"stream_sessions\"],\"edges\":{";
  std::lock_guard lk(mu_);
  bool first = true;
  for (auto& [name, h] : edges_) {
    j += std::string(first ? "" : ",") + "\"" + obs::json_escape(name) + "\":";
    first = false;
    h.append_json(j);
  }
  j += "}}\n";
  return j;
}

}  // namespace cdn::geo
