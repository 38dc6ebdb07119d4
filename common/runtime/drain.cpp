#include "common/runtime/drain.h"

namespace cdn::runtime {

bool DrainSchedule::announce(int64_t now_ms) {
  // The grace end is written before the phase, so whoever sees Announced reads a real end.
  int expected = int(DrainPhase::Serving);
  int64_t unset = 0;
  grace_end_ms_.compare_exchange_strong(unset, now_ms + grace_ms_);
  return phase_.compare_exchange_strong(expected, int(DrainPhase::Announced));
}

bool DrainSchedule::begin_stopping(int64_t now_ms) {
  int64_t unset = 0;
  stop_deadline_ms_.compare_exchange_strong(unset, now_ms + drain_ms_);
  int p = phase_.load();
  while (p != int(DrainPhase::Stopping)) {
    if (phase_.compare_exchange_weak(p, int(DrainPhase::Stopping))) return true;
  }
  return false;
}

bool DrainSchedule::grace_over(int64_t now_ms) const {
  return phase() == DrainPhase::Announced && now_ms >= grace_end_ms_.load();
}

bool DrainSchedule::stop_deadline_passed(int64_t now_ms) const {
  return phase() == DrainPhase::Stopping && now_ms > stop_deadline_ms_.load();
}

}  // namespace cdn::runtime
