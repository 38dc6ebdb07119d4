#include "origin-shield/origin/live/segmenter.h"

#include <algorithm>
#include <cmath>

#include "origin-shield/origin/live/psi.h"

namespace cdn::live {
namespace {

// Rounding slack between 90 kHz timestamps and a decimal target (29.97 fps and friends).
constexpr int64_t kSlackTicks = kTimestampHz / 50;

int64_t ticks(double seconds) { return int64_t(std::llround(seconds * kTimestampHz)); }

}  // namespace

Segmenter::Segmenter(SegmenterConfig config, Sink sink)
    : config_(config),
      sink_(std::move(sink)),
      demuxer_(*this),
      target_ticks_(ticks(config.target_duration_s)),
      jump_ticks_(ticks(config.jump_threshold_s)),
      max_ticks_(ticks(config.max_duration_s > 0 ? config.max_duration_s
                                                 : std::max(30.0, 5 * config.target_duration_s))),
      pending_discontinuity_(config.first_discontinuity),
      next_sequence_(config.first_sequence) {}

void Segmenter::feed(std::string_view bytes) { demuxer_.feed(bytes); }

void Segmenter::flush() {
  demuxer_.flush();
  if (started_) emit(cur_max_pts_ + frame_ticks_);
  started_ = pes_pending_ = false;
  cur_.data.clear();
  new_timeline_offset_.reset();
  clocks_.clear();
  cues_.drop_all();
  stats_.dropped_cues = cues_.dropped();
  pending_discontinuity_ = true;
  has_last_ts_ = false;
}

void Segmenter::on_program(const PmtInfo& pmt, std::string_view pat, std::string_view pmt_section) {
  if (!pmt_section_.empty()) {
    pending_discontinuity_ = cut_asap_ = true;
    if (!new_timeline_offset_) new_timeline_offset_ = cur_.data.size();
  }
  clocks_.clear();
  pat_section_.assign(pat);
  pmt_section_.assign(pmt_section);
  if (pmt.pid != pmt_pid_) pmt_cc_ = 0;
  pmt_pid_ = pmt.pid;
  primary_pid_ = 0xFFFF;
  other_program_pids_.assign(1, pmt.pcr_pid);
  for (auto& es : pmt.streams)
    if (es.kind == StreamKind::kOther) other_program_pids_.push_back(es.pid);
  for (auto& es : pmt.streams) {
    if (es.kind == StreamKind::kVideo) {
      primary_pid_ = es.pid;
      primary_is_video_ = true;
      break;
    }
  }
  if (primary_pid_ == 0xFFFF) {
    for (auto& es : pmt.streams) {
      if (es.kind == StreamKind::kAudio) {
        primary_pid_ = es.pid;
        primary_is_video_ = false;
        break;
      }
    }
  }
  pes_pending_ = false;
}

void Segmenter::track_other_stream(const PesStart& pes) {
  if (!pes.has_pts || !started_) return;
  for (auto& c : clocks_) {
    if (c.pid != pes.pid) continue;
    if (is_jump(pes.dts - c.last_dts) && !new_timeline_offset_)
      new_timeline_offset_ = cur_.data.size();
    c.last_dts = pes.dts;
    return;
  }
  if (clocks_.size() < 16) clocks_.push_back({pes.pid, pes.dts});
}

void Segmenter::on_pes_start(const PesStart& pes) {
  if (pes.pid != primary_pid_) {
    track_other_stream(pes);
    return;
  }
  if (pes_pending_ && primary_is_video_) decide(false);
  if (!pes.has_pts) {
    pes_pending_ = false;  // no timing: cannot start a segment here
    return;
  }
  // DTS is monotonic in decode order, so it is what a jump is measured on.
  if (has_last_ts_) {
    const int64_t delta = pes.dts - last_ts_;
    if (is_jump(delta)) {
      pending_discontinuity_ = cut_asap_ = true;
      if (!new_timeline_offset_) new_timeline_offset_ = cur_.data.size();
    } else if (!pending_discontinuity_) {
      new_timeline_offset_.reset();  // only another stream jumped: a gap there, not a restart
      if (delta > 0 && delta < kTimestampHz) frame_ticks_ = delta;
    }
  }
  last_ts_ = pes.dts;
  has_last_ts_ = true;
  if (started_ && !pending_discontinuity_) cur_max_pts_ = std::max(cur_max_pts_, pes.pts);
  pes_pending_ = true;
  pes_offset_ = cur_.data.size();
  pes_pts_ = pes.pts;
  if (!primary_is_video_) decide(true);
}

void Segmenter::on_video_access_unit(uint16_t pid, bool keyframe, bool has_sps) {
  if (pid != primary_pid_ || !pes_pending_) return;
  pes_has_sps_ = has_sps;
  decide(keyframe);
}

void Segmenter::decide(bool keyframe) {
  pes_pending_ = false;
  if (!started_) {
    if (keyframe) open(pes_offset_, pes_pts_, true);
    else cur_.data.clear();  // nothing before the first keyframe is playable
    return;
  }
  const int64_t elapsed = pes_pts_ - cur_.first_pts;
  if (keyframe) {
    if (cut_asap_ || elapsed >= target_ticks_ - kSlackTicks || (elapsed > 0 && cues_.due(pes_pts_)))
      cut(pes_offset_, pes_pts_, true);
  } else if (elapsed >= max_ticks_ || cur_.data.size() >= config_.max_segment_bytes) {
    ++stats_.forced_cuts;
    cut(pes_offset_, pes_pts_, false);
  }
}

void Segmenter::cut(size_t offset, int64_t next_first_pts, bool keyframe) {
  std::string tail = cur_.data.substr(offset);
  cur_.data.resize(offset);
  if (pending_discontinuity_) drop_new_timeline_prefix();
  // Across a discontinuity the next PTS is on another timeline: end from this segment's own.
  emit(pending_discontinuity_ ? cur_max_pts_ + frame_ticks_ : next_first_pts);
  cur_.data = std::move(tail);
  open(0, next_first_pts, keyframe);
}

void Segmenter::drop_new_timeline_prefix() {
  if (new_timeline_offset_ && *new_timeline_offset_ < cur_.data.size())
    cur_.data.resize(*new_timeline_offset_);
}

void Segmenter::open(size_t offset, int64_t first_pts, bool keyframe) {
  std::string data;
  data.reserve(std::max<size_t>(last_size_ + last_size_ / 4, 64 << 10));
  packetize_section(kPatPid, pat_section_, pat_cc_, data);
  packetize_section(pmt_pid_, pmt_section_, pmt_cc_, data);
  data.append(cur_.data, offset);
  cur_.data = std::move(data);
  cur_.sequence = next_sequence_++;
  cur_.first_pts = first_pts;
  cur_.discontinuity = pending_discontinuity_;
  cur_.starts_with_keyframe = keyframe;
  cur_.cues = cues_.take_due(first_pts);
  if (pending_discontinuity_) ++stats_.discontinuities;
  if (primary_is_video_ && keyframe && !pes_has_sps_) ++stats_.segments_without_sps;
  pending_discontinuity_ = cut_asap_ = false;
  new_timeline_offset_.reset();
  cur_max_pts_ = first_pts;
  started_ = true;
}

void Segmenter::emit(int64_t end_pts) {
  cur_.duration_s = double(std::max<int64_t>(end_pts - cur_.first_pts, 0)) / kTimestampHz;
  stats_.max_duration_s = std::max(stats_.max_duration_s, cur_.duration_s);
  ++stats_.segments;
  last_size_ = cur_.data.size();
  Segment out = std::move(cur_);
  cur_ = Segment{};
  sink_(std::move(out));
}

void Segmenter::on_splice(const SpliceInfo& info, std::string_view section) {
  std::optional<int64_t> placed;
  if (info.pts_time) placed = demuxer_.place_timestamp(*info.pts_time);
  cues_.on_splice(info, section, last_ts_, placed);
  stats_.cues = cues_.cues();
  stats_.dropped_cues = cues_.dropped();
}

void Segmenter::on_packet(const uint8_t* packet, PacketRole role) {
  if (role == PacketRole::kPat || role == PacketRole::kPmt || role == PacketRole::kNull) return;
  if (!started_ && !pes_pending_) return;
  if (role == PacketRole::kOther) {
    const uint16_t pid = uint16_t((packet[1] & 0x1F) << 8 | packet[2]);
    if (std::find(other_program_pids_.begin(), other_program_pids_.end(), pid) ==
        other_program_pids_.end())
      return;
  }
  cur_.data.append(reinterpret_cast<const char*>(packet), kTsPacketSize);
  if (cur_.data.size() < config_.max_segment_bytes) return;
  // No PES boundary for too long (garbage): bound memory at the cost of a non-keyframe start.
  if (!started_) {
    cur_.data.clear();
    pes_pending_ = false;
    return;
  }
  ++stats_.forced_cuts;
  pes_pending_ = false;
  cut(cur_.data.size(), cur_max_pts_, false);
}

}  // namespace cdn::live
