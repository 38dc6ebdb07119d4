#pragma once
// Polls every edge's and every watched origin's GET /healthz on a loop of its own (never on an
// answer path), all concurrently, every interval; applies the results to each one's state and
// publishes an immutable snapshot to the steering core after each one. Origins only show on the
// fleet page: the chooser reads the edges alone. An https:// admin address is polled over TLS with
// the upstream client's TLS path, verified and (mTLS) authenticated with `geo.admin_client`.
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

// The TLS context for the config's https:// admin addresses (null when there is none), loaded
// from `admin_client` now so that files gone bad fail a start or reload, not every poll.
Result<std::shared_ptr<net::TlsClientContextHolder>> admin_client_tls(const GeoConfig& cfg);

class HealthPoller {
 public:
  // Every poll's result also goes into `history` or `origin_history` (both outlive the poller).
  // `tls` (from admin_client_tls) dials the https:// admin addresses.
  HealthPoller(SteeringCore& core, FleetHistory& history, FleetHistory& origin_history,
               std::shared_ptr<net::TlsClientContextHolder> tls = nullptr);
  ~HealthPoller();
  // Runs `fn` on the poller's loop after every round of polls (e.g. watching data files), so
  // nothing periodic runs on an answer path. Call before start().
  void also_every_interval(std::function<void()> fn) { also_ = std::move(fn); }
  void start();
  void stop();

 private:
  struct Probe;
  void tick();
  // `target` counts the edges first, then the origins.
  void finished(size_t target, const PollResult& r);
  void edge_finished(size_t edge, const PollResult& r, int64_t now);
  void origin_finished(size_t origin, const PollResult& r, int64_t now);
  const config::HostPort& admin_of(size_t target) const;
  bool admin_tls_of(size_t target) const;
  const std::string& name_of(size_t target) const;
  void count_failure(size_t target, const std::string& reason);

  SteeringCore& core_;
  const GeoConfig& cfg_;
  FleetHistory& history_;
  FleetHistory& origin_history_;
  std::shared_ptr<net::TlsClientContextHolder> tls_;
  net::Worker worker_{-1};
  net::UvHandle<uv_timer_t> timer_;
  std::vector<std::unique_ptr<http::UpstreamPool>> pools_;  // loop thread only
  std::vector<std::unique_ptr<Probe>> probes_;              // one per target, reused
  std::vector<EdgeStatus> status_;                          // loop thread only
  std::vector<EdgeStatus> origin_status_;                   // loop thread only
  std::function<void()> also_;
  bool started_ = false;
};

}  // namespace cdn::geo
