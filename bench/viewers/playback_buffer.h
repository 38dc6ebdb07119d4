#pragma once
// One player's playback buffer, in seconds of media against the wall clock. Playback starts when
// the first segment arrives; from then on media plays at real time while the buffer holds any. A
// segment that arrives after the buffer ran dry ends a stall lasting from the moment it ran dry.
// Times are seconds on any monotonic clock.
#include <cstdint>

namespace cdn::viewers {

class PlaybackBuffer {
 public:
  void on_segment(double now, double duration);
  bool started() const { return started_; }
  double start_time() const { return start_; }
  // Media seconds played by `now` (never more than what arrived).
  double played(double now) const;
  // Seconds stalled by `now`: the finished stalls, plus the current one when the buffer is dry
  // (a viewer who leaves while waiting did wait).
  double stalled(double now) const;
  uint64_t stalls() const { return stalls_; }
  // Seconds of media buffered ahead of `now`.
  double buffered(double now) const;
  double runs_out() const { return runs_out_; }
  bool dry(double now) const { return started_ && now > runs_out_; }

 private:
  bool started_ = false;
  double start_ = 0;
  double runs_out_ = 0;  // wall time at which the buffered media ends
  double received_ = 0;  // media seconds received
  double stalled_ = 0;   // finished stalls
  uint64_t stalls_ = 0;
};

}  // namespace cdn::viewers
