#pragma once
// The two-phase drain's schedule. Phase 1 (Announced): /healthz says draining, so cdn-geo and
// load balancers move viewers away, while the listeners keep accepting and serving for
// timeouts.drain_grace (resolvers still hand out this node until their TTL runs out). Phase 2
// (Stopping): the listeners close, open requests get up to timeouts.drain. SIGTERM and
// POST /admin/drain announce; a SIGTERM while already draining (a second one, or one after
// POST /admin/drain: the operator has waited) skips what is left of the grace.
// Read from any thread; the transitions are compare-and-swaps, so the admin loop and the
// signal loop can race into the same phase and only one of them acts.
#include <atomic>
#include <cstdint>

namespace cdn::runtime {

enum class DrainPhase : int { Serving = 0, Announced = 1, Stopping = 2 };

class DrainSchedule {
 public:
  DrainSchedule(int64_t grace_ms, int64_t drain_ms) : grace_ms_(grace_ms), drain_ms_(drain_ms) {}

  // Serving -> Announced at `now_ms`; false when the drain had already begun.
  bool announce(int64_t now_ms);
  // Announced -> Stopping (or Serving -> Stopping); true only for the call that made the
  // change, which must then close the listeners. The open requests' deadline starts here.
  bool begin_stopping(int64_t now_ms);
  // Announced and the grace is over: time for begin_stopping.
  bool grace_over(int64_t now_ms) const;
  // Stopping and the open requests' time is up.
  bool stop_deadline_passed(int64_t now_ms) const;

  DrainPhase phase() const { return DrainPhase(phase_.load()); }
  bool announced() const { return phase() != DrainPhase::Serving; }
  bool stopping() const { return phase() == DrainPhase::Stopping; }
  int64_t grace_ms() const { return grace_ms_; }
  int64_t drain_ms() const { return drain_ms_; }

 private:
  const int64_t grace_ms_, drain_ms_;
  std::atomic<int> phase_{int(DrainPhase::Serving)};
  std::atomic<int64_t> grace_end_ms_{0}, stop_deadline_ms_{0};
};

}  // namespace cdn::runtime
