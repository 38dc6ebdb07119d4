#include "origin-shield/origin/live/splice_cues.h"

#include <algorithm>
#include <iterator>

#include "origin-shield/origin/live/timestamp.h"

namespace cdn::live {
namespace {

constexpr size_t kMaxPendingCues = 64;
// A splice time further ahead than this is treated as garbage and applied at the next boundary.
constexpr int64_t kMaxSplicePreroll = 120 * kTimestampHz;
// Rounding slack between a splice time and the keyframe it falls on.
constexpr int64_t kSlackTicks = kTimestampHz / 50;

}  // namespace

void CueQueue::on_splice(const SpliceInfo& info, std::string_view section, int64_t last_ts,
                         std::optional<int64_t> placed) {
  if (info.cancel) {
    dropped_ += std::erase_if(pending_, [&](const Cue& c) { return c.event_id == info.event_id; });
    return;
  }
  if (info.direction == SpliceDirection::kNone || pending_.size() >= kMaxPendingCues) return;
  Cue cue;
  cue.direction = info.direction;
  cue.event_id = info.event_id;
  cue.pts = last_ts;
  if (placed && !info.immediate && *placed - last_ts <= kMaxSplicePreroll) cue.pts = *placed;
  if (info.duration) cue.duration_s = double(*info.duration) / kTimestampHz;
  cue.section.assign(section);
  ++cues_;
  pending_.push_back(std::move(cue));
}

bool CueQueue::due(int64_t pts) const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [&](const Cue& c) { return c.pts <= pts + kSlackTicks; });
}

std::vector<Cue> CueQueue::take_due(int64_t first_pts) {
  std::vector<Cue> out;
  auto due = std::stable_partition(pending_.begin(), pending_.end(),
                                   [&](const Cue& c) { return c.pts <= first_pts + kSlackTicks; });
  std::move(pending_.begin(), due, std::back_inserter(out));
  pending_.erase(pending_.begin(), due);
  return out;
}

void CueQueue::drop_all() {
  dropped_ += pending_.size();
  pending_.clear();
}

}  // namespace cdn::live
