#include "bench/viewers/playback_buffer.h"

#include <algorithm>

namespace cdn::viewers {

void PlaybackBuffer::on_segment(double now, double duration) {
  duration = std::max(0.0, duration);
  if (!started_) {
    started_ = true;
    start_ = now;
    runs_out_ = now;
  } else if (now > runs_out_) {
    stalled_ += now - runs_out_;
    ++stalls_;
    runs_out_ = now;
  }
  runs_out_ += duration;
  received_ += duration;
}

double PlaybackBuffer::buffered(double now) const {
  return started_ ? std::max(0.0, runs_out_ - now) : 0;
}

double PlaybackBuffer::played(double now) const {
  return started_ ? received_ - buffered(now) : 0;
}

double PlaybackBuffer::stalled(double now) const {
  return stalled_ + (started_ && now > runs_out_ ? now - runs_out_ : 0);
}

}  // namespace cdn::viewers
