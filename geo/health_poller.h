#pragma once
// Polls every edge's GET /healthz on a loop of its own (never on an answer path), all edges
// concurrently, every interval; applies the results to each edge's state and publishes an
// immutable snapshot to the steering core after each one.
#include <functional>
#include <memory>
#include <vector>

#include "common/http/upstream_client.h"
#include "common/net/uv_handle.h"
#include "common/net/worker.h"
#include "geo/edge_health.h"
#include "geo/edge_history.h"
#include "geo/steering_core.h"

namespace cdn::geo {

// Reads an edge's /healthz answer (status and JSON body).
PollResult parse_healthz(int status, const std::string& body);

class HealthPoller {
 public:
  // Every poll's result also goes into `history` (which outlives the poller).
  HealthPoller(SteeringCore& core, FleetHistory& history);
  ~HealthPoller();
  // Runs `fn` on the poller's loop after every round of polls (e.g. watching data files), so
  // nothing periodic runs on an answer path. Call before start().
  void also_every_interval(std::function<void()> fn) { also_ = std::move(fn); }
  void start();
  void stop();

 private:
  struct Probe;
  void tick();
  void finished(size_t edge, const PollResult& r);

  SteeringCore& core_;
  const GeoConfig& cfg_;
  FleetHistory& history_;
  net::Worker worker_{-1};
  net::UvHandle<uv_timer_t> timer_;
  std::vector<std::unique_ptr<http::UpstreamPool>> pools_;  // loop thread only
  std::vector<std::unique_ptr<Probe>> probes_;              // one per edge, reused
  std::vector<EdgeStatus> status_;                          // loop thread only
  std::function<void()> also_;
  bool started_ = false;
};

}  // namespace cdn::geo
