#pragma once
// Each edge's health as the answer path sees it: an immutable snapshot published by the poller.
// The per-edge state machine is here (pure, testable): an edge is down after K consecutive failed
// polls and up after M successful ones; before its first poll the first answer decides.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "geo/geo_config.h"

namespace cdn::geo {

// An edge's cumulative /healthz counters (absent ones stay -1).
struct Counters {
  int64_t requests = -1, errors_5xx = -1, cache_lookups = -1, cache_hits = -1;
};

struct PollResult {
  bool ok = false;    // /healthz answered with a JSON status (200, or 503 while draining)
  std::string error;  // why not, when !ok
  bool draining = false;
  uint64_t connections = 0;
  double egress_bytes_per_s = 0;
  Counters counters;
  int64_t stream_sessions = -1;  // -1: the edge has no access: section
  int64_t live_channels = -1;    // an origin's; -1: not reported (edges, shields)
};

// Rates over a recent window; negative where nothing was measured (no answer, no lookups).
struct RecentRates {
  double hit_ratio = -1, requests_per_s = -1, errors_5xx_per_s = -1;
};

struct EdgeStatus {
  enum class Health { Unknown, Up, Down };
  Health health = Health::Unknown;
  bool available = false;  // up, not draining, under its load share
  std::string reason = "not-polled-yet";
  uint64_t connections = 0;
  double egress_bps = 0;                 // bit/s
  bool draining = false;                 // as the last answer said
  int64_t stream_sessions = -1;          // as the last answer said; -1: not reported
  int64_t live_channels = -1;            // likewise (origins)
  RecentRates rates;                     // over the last 30 s (EdgeHistory)
  int64_t last_change_ms = 0;            // unix ms of the last change of health or availability
  uint32_t failures = 0, successes = 0;  // consecutive
};
const char* to_string(EdgeStatus::Health h);

// Applies one poll to an edge's status; returns true when `health` changed.
bool apply_poll(EdgeStatus& s, const PollResult& r, const EdgeConfig& edge, const HealthConfig& cfg,
                int64_t now_ms);
// The same for an origin: up and down alike, but it has no capacity to be over (it is never
// steered to; `available` only says up and not draining).
bool apply_origin_poll(EdgeStatus& s, const PollResult& r, const HealthConfig& cfg, int64_t now_ms);

struct HealthSnapshot {
  std::vector<EdgeStatus> edges;    // one per GeoConfig::edges, same order
  std::vector<EdgeStatus> origins;  // one per GeoConfig::origins, same order
};

}  // namespace cdn::geo
