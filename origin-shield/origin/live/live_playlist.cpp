#include "origin-shield/origin/live/live_playlist.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common/hls/datetime.h"
#include "common/hls/writer.h"
#include "origin-shield/origin/live/splice_dates.h"

namespace cdn::live {
namespace {

constexpr size_t kMinWindowSegments = 6;
constexpr int64_t kMaxDateDriftMs = 5000;  // re-anchor program date-time to the wall clock beyond
constexpr int kMaxTargetDuration = 3600;   // beyond this the first segment was garbage

}  // namespace

LivePlaylist::LivePlaylist(LivePlaylistConfig config) : config_(std::move(config)) {
  config_.window_segments = std::max(config_.window_segments, kMinWindowSegments);
}

std::string LivePlaylist::segment_uri(uint64_t sequence) const {
  return config_.uri_prefix + std::to_string(sequence) + config_.uri_suffix;
}

uint64_t LivePlaylist::append(const Segment& in, int64_t now_ms) {
  Entry e;
  hls::Segment& s = e.seg;
  s.duration = in.duration_s;
  s.uri = segment_uri(next_sequence_);
  s.discontinuity = in.discontinuity || pending_discontinuity_ || ended_;
  e.size_bytes = in.data.size();
  const int64_t dur_ms = std::llround(in.duration_s * 1000);
  int64_t pdt = now_ms - dur_ms;  // the segment just completed, so it began one duration ago
  if (!history_.empty()) {
    const auto& prev = history_.back().seg;
    const int64_t continuous = *prev.program_date_time_ms + std::llround(prev.duration * 1000);
    // Dates never go backwards (players and SCTE-35 break ends compare them): a stream running
    // ahead of the clock keeps its media-time dates; one that fell behind (a gap) is re-anchored
    // forward to the wall clock.
    if (s.discontinuity) {
      pdt = std::max(pdt, continuous);
    } else if (pdt - continuous <= kMaxDateDriftMs) {
      pdt = continuous;
    }
  }
  s.program_date_time_ms = pdt;
  if (target_duration_ == 0)
    target_duration_ = std::clamp(
        std::max(int(std::ceil(config_.target_duration_s - 1e-3)), int(std::lround(in.duration_s))),
        1, kMaxTargetDuration);
  if (std::lround(in.duration_s) > target_duration_) ++target_overruns_;
  apply_splice_dates(in.cues, *s.program_date_time_ms, s, open_break_);
  history_.push_back(std::move(e));
  pending_discontinuity_ = ended_ = false;
  trim_history(now_ms);
  return next_sequence_++;
}

void LivePlaylist::trim_history(int64_t now_ms) {
  const size_t window = history_.size() - window_start();
  double kept = 0;
  for (auto& e : history_) kept += e.seg.duration;
  while (history_.size() > window) {
    const Entry& first = history_.front();
    if (kept - first.seg.duration < config_.dvr_window_s) break;
    kept -= first.seg.duration;
    const uint64_t seq = next_sequence_ - history_.size() + 1;
    // RFC 8216 §6.2.2: its duration plus that of the longest playlist that held it.
    expiring_.push_back(
        {seq, now_ms + std::llround((first.seg.duration + kept + first.seg.duration) * 1000)});
    if (first.seg.discontinuity) ++discontinuities_dropped_;
    history_.pop_front();
    history_trimmed_ = true;
  }
}

size_t LivePlaylist::window_start() const {
  size_t n = 0;
  double d = 0;
  const double min_duration = 3.0 * std::max(target_duration_, 1);
  for (size_t i = history_.size(); i-- > 0;) {
    ++n;
    d += history_[i].seg.duration;
    if (n >= config_.window_segments && d >= min_duration) return i;
  }
  return 0;
}

hls::MediaPlaylist LivePlaylist::model_from(size_t first) const {
  hls::MediaPlaylist p;
  p.target_duration = std::max(target_duration_, 1);
  p.media_sequence = next_sequence_ - history_.size() + first;
  p.discontinuity_sequence = discontinuities_dropped_;
  for (size_t i = 0; i < first; ++i)
    if (history_[i].seg.discontinuity) ++p.discontinuity_sequence;
  p.independent_segments = true;
  p.endlist = ended_;
  for (size_t i = first; i < history_.size(); ++i) p.segments.push_back(history_[i].seg);
  return p;
}

hls::MediaPlaylist LivePlaylist::live_model() const {
  return model_from(window_start());
}

hls::MediaPlaylist LivePlaylist::event_model() const {
  hls::MediaPlaylist p = model_from(0);
  if (!history_trimmed_) p.type = ended_ ? hls::PlaylistType::kVod : hls::PlaylistType::kEvent;
  return p;
}

std::string LivePlaylist::live_playlist() const {
  return hls::write(live_model());
}
std::string LivePlaylist::event_playlist() const {
  return hls::write(event_model());
}

uint64_t LivePlaylist::peak_bandwidth() const {
  double peak = 0;
  for (size_t i = window_start(); i < history_.size(); ++i) {
    const Entry& e = history_[i];
    if (e.seg.duration > 0) peak = std::max(peak, e.size_bytes * 8 / e.seg.duration);
  }
  return uint64_t(std::ceil(peak));
}

uint64_t LivePlaylist::average_bandwidth() const {
  double bits = 0, secs = 0;
  for (size_t i = window_start(); i < history_.size(); ++i) {
    bits += double(history_[i].size_bytes) * 8;
    secs += history_[i].seg.duration;
  }
  return secs > 0 ? uint64_t(std::ceil(bits / secs)) : 0;
}

std::vector<uint64_t> LivePlaylist::take_expired(int64_t now_ms) {
  std::vector<uint64_t> out;
  std::erase_if(expiring_, [&](const Expiring& x) {
    if (x.deadline_ms > now_ms) return false;
    out.push_back(x.sequence);
    return true;
  });
  return out;
}

}  // namespace cdn::live
