#include "geo/edge_health.h"

namespace cdn::geo {

const char* to_string(EdgeStatus::Health h) {
  switch (h) {
    case EdgeStatus::Health::Unknown:
      return "unknown";
    case EdgeStatus::Health::Up:
      return "up";
    case EdgeStatus::Health::Down:
      return "down";
  }
  return "?";
}

namespace {

// Why an up edge takes no new viewers, or "" when it may.
std::string unavailable_reason(const PollResult& r, const EdgeConfig& e, const HealthConfig& cfg) {
  if (r.draining) return "draining";
  if (double(r.connections) > cfg.load_share * double(e.capacity_connections))
    return "connections-over-share";
  if (r.egress_bytes_per_s * 8 > cfg.load_share * double(e.capacity_egress_bps))
    return "egress-over-share";
  return "";
}

}  // namespace

bool apply_poll(EdgeStatus& s, const PollResult& r, const EdgeConfig& edge, const HealthConfig& cfg,
                int64_t now_ms) {
  using H = EdgeStatus::Health;
  const H old_health = s.health;
  const bool old_available = s.available;
  if (r.ok) {
    s.failures = 0;
    ++s.successes;
    s.connections = r.connections;
    s.egress_bps = r.egress_bytes_per_s * 8;
    s.draining = r.draining;
    s.stream_sessions = r.stream_sessions;
    s.live_channels = r.live_channels;
    if (s.health == H::Unknown || (s.health == H::Down && s.successes >= cfg.up_after))
      s.health = H::Up;
  } else {
    s.successes = 0;
    ++s.failures;
    if (s.health == H::Unknown || (s.health == H::Up && s.failures >= cfg.down_after))
      s.health = H::Down;
  }
  if (s.health == H::Up && !r.ok) {
    // Up until K failures in a row: availability stays what the last answer said (a draining
    // edge that stops answering must not come back into use meanwhile).
    s.reason = "poll-failed (" + std::to_string(s.failures) + "/" + std::to_string(cfg.down_after) +
               "): " + r.error;
  } else if (s.health == H::Up) {
    std::string why = unavailable_reason(r, edge, cfg);
    s.available = why.empty();
    s.reason = why.empty() ? "ok" : why;
  } else {
    s.available = false;
    s.reason = !r.ok ? "down: " + r.error
                     : "recovering (" + std::to_string(s.successes) + "/" +
                           std::to_string(cfg.up_after) + ")";
  }
  if (s.health != old_health || s.available != old_available) s.last_change_ms = now_ms;
  return s.health != old_health;
}

bool apply_origin_poll(EdgeStatus& s, const PollResult& r, const HealthConfig& cfg,
                       int64_t now_ms) {
  static const EdgeConfig kUnlimited = [] {
    EdgeConfig e;
    e.capacity_connections = UINT64_MAX;
    e.capacity_egress_bps = UINT64_MAX;
    return e;
  }();
  return apply_poll(s, r, kUnlimited, cfg, now_ms);
}

}  // namespace cdn::geo
