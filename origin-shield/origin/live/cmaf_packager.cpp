#include "origin-shield/origin/live/cmaf_packager.h"

#include <cmath>
#include <cstdlib>
#include <utility>

namespace cdn::live {

CmafPackager::CmafPackager(CmafConfig config, Output out)
    : config_(config),
      out_(std::move(out)),
      reader_([this](AccessUnit&& au) { on_unit(std::move(au)); }),
      target_ticks_(std::llround(config.target_duration_s * kTimestampHz)),
      part_ticks_(std::llround(config.part_target_s * kTimestampHz)),
      chunk_ticks_(std::llround(config.chunk_target_s * kTimestampHz)),
      jump_ticks_(std::llround(config.jump_threshold_s * kTimestampHz)),
      pending_discontinuity_(config.first_discontinuity),
      next_sequence_(config.first_sequence) {
  // Splices wait for the segment that starts at their time (cut at the keyframe there).
  reader_.on_splice(
      [this](const SpliceInfo& info, std::string_view section, std::optional<int64_t> placed) {
        cues_.on_splice(info, section, last_primary_dts_, placed);
      });
}

void CmafPackager::feed(std::string_view ts_bytes) {
  reader_.feed(ts_bytes);
}

void CmafPackager::flush(bool input_complete) {
  reader_.flush(input_complete);
  if (open_) end_timeline(nominal_duration(primary_video_));
  cues_.drop_all();
}

int64_t CmafPackager::nominal_duration(bool video) const {
  if (video) return reader_.frame_ticks() > 0 ? reader_.frame_ticks() : kTimestampHz / 25;
  const auto& a = reader_.tracks().audio;
  return a && a->sample_rate > 0 ? 1024 * kTimestampHz / a->sample_rate : 1920;
}

bool CmafPackager::tracks_known() const {
  const fmp4::InitConfig& tracks = reader_.tracks();
  return (!reader_.has_audio_stream() || tracks.audio) && (!primary_video_ || tracks.video);
}

void CmafPackager::on_unit(AccessUnit&& au) {
  primary_video_ = reader_.has_video_stream();
  if (!open_ && !tracks_known()) return hold(std::move(au));
  if (!held_.empty()) {
    // Every track is known now: what waited for that goes first, in arrival order.
    auto held = std::move(held_);
    held_.clear();
    for (AccessUnit& h : held) on_unit(std::move(h));
  }
  if (au.video == primary_video_) return on_primary(std::move(au));
  if (au.video || !open_) return;  // audio before the first segment opens has no init yet
  // Audio a timestamp jump away from the video (the other side of a discontinuity in one input:
  // TS muxes audio behind video, so the old timeline's last frames come after the video jumped)
  // fits no part of this timeline, and at the queue's head it would hold back every later frame
  // to the end of the input.
  if (std::llabs(au.dts - last_primary_dts_) > jump_ticks_) return;
  if (!audio_q_.empty() && audio_q_.back().duration < 0) {
    const int64_t delta = au.dts - audio_q_.back().au.dts;
    audio_q_.back().duration = delta > 0 && delta < jump_ticks_ ? delta : nominal_duration(false);
  }
  audio_q_.push_back({std::move(au)});
}

void CmafPackager::on_primary(AccessUnit&& au) {
  auto& q = primary_video_ ? video_q_ : audio_q_;
  if (open_) {
    const int64_t delta = au.dts - last_primary_dts_;
    if (delta <= 0 || delta > jump_ticks_) end_timeline(nominal_duration(primary_video_));
  }
  if (!open_) {
    if (!au.keyframe) return;
    if (!primary_video_) audio_q_.clear();
    refresh_init();
    open_segment(au.dts);
    seg_cues_ = cues_.take_due(au.pts);
  } else {
    q.back().duration = au.dts - last_primary_dts_;
    const int64_t frame = au.dts - last_primary_dts_;
    const bool seg_cut = au.keyframe && (au.dts - seg_start_ >= target_ticks_ ||
                                         (au.dts > seg_start_ && cues_.due(au.pts)));
    if (seg_cut || au.dts - part_start_ + frame > part_ticks_) {
      cut_part(au.dts);
      part_start_ = chunk_start_ = au.dts;
      part_independent_ = au.keyframe;
    } else if (chunk_ticks_ > 0 && au.dts - chunk_start_ + frame > chunk_ticks_) {
      cut_chunk(au.dts, false);
      chunk_start_ = au.dts;
    }
    if (seg_cut) {
      close_segment();
      refresh_init();
      open_segment(au.dts);
      seg_cues_ = cues_.take_due(au.pts);
    }
  }
  last_primary_dts_ = au.dts;
  q.push_back({std::move(au)});
}

// Units that arrive before every track of the program is known (the first audio frame often comes
// after the first keyframe) wait, from the first keyframe on, for at most one GOP's worth: the
// init segment needs all tracks, and the stream should not lose its first GOP for it.
void CmafPackager::hold(AccessUnit&& au) {
  const bool primary = au.video == primary_video_;
  if (held_.empty()) {
    if (primary && au.keyframe) held_.push_back(std::move(au));
    return;
  }
  if (primary && au.keyframe && au.dts - held_.front().dts > jump_ticks_) held_.clear();
  if (!held_.empty() && !primary && au.dts < held_.front().dts) return;
  held_.push_back(std::move(au));
}

void CmafPackager::refresh_init() {
  fmp4::InitConfig tracks = reader_.tracks();
  if (!reader_.has_audio_stream()) tracks.audio.reset();
  if (!reader_.has_video_stream()) tracks.video.reset();
  std::string init = fmp4::write_init(tracks);
  if (init == init_) return;
  init_ = std::move(init);
  init_id_ = next_sequence_;
  audio_track_id_ = tracks.audio_track_id();
  CmafInit ci;
  ci.id = init_id_;
  ci.muxed = make_bytes(std::string(init_));
  if (config_.per_track) {
    if (tracks.video) {
      fmp4::InitConfig v;
      v.video = tracks.video;
      ci.video = make_bytes(fmp4::write_init(v));
    }
    if (tracks.audio) {
      fmp4::InitConfig a;
      a.audio = tracks.audio;
      a.audio_id = audio_track_id_;
      ci.audio = make_bytes(fmp4::write_init(a));
    }
  }
  if (out_.on_init) out_.on_init(ci);
}

void CmafPackager::open_segment(int64_t dts) {
  open_ = true;
  seg_start_ = part_start_ = chunk_start_ = dts;
  part_independent_ = true;
  part_index_ = 0;
  seg_parts_.clear();
  seg_duration_s_ = 0;
  seg_discontinuity_ = pending_discontinuity_;
  pending_discontinuity_ = false;
}

void CmafPackager::cut_chunk(int64_t end_dts, bool all_audio) {
  auto& primary = primary_video_ ? video_q_ : audio_q_;
  if (primary.empty()) return;
  std::vector<fmp4::TrackRun> runs;
  const auto take = [&](std::deque<Queued>& q, uint32_t track, bool all) {
    fmp4::TrackRun run;
    run.track_id = track;
    while (!q.empty() && (all || (q.front().au.dts < end_dts && q.front().duration >= 0))) {
      Queued& u = q.front();
      if (run.samples.empty()) run.base_decode_time = uint64_t(u.au.dts);
      fmp4::Sample s;
      s.duration = uint32_t(u.duration >= 0 ? u.duration : nominal_duration(u.au.video));
      s.size = uint32_t(u.au.data.size());
      s.sync = u.au.keyframe;
      s.composition_offset = int32_t(u.au.pts - u.au.dts);
      run.samples.push_back(s);
      run.data += u.au.data;
      q.pop_front();
    }
    if (!run.samples.empty()) runs.push_back(std::move(run));
  };
  if (primary_video_) {
    take(video_q_, 1, true);
    take(audio_q_, audio_track_id_, all_audio);
  } else {
    take(audio_q_, 1, true);
  }
  CmafChunk chunk;
  chunk.sequence = next_sequence_;
  chunk.part_index = part_index_;
  chunk.data = make_bytes(fmp4::write_fragment(++fragment_number_, runs));
  part_data_ += *chunk.data;
  if (config_.per_track)
    for (fmp4::TrackRun& run : runs) {
      const bool video = primary_video_ && run.track_id == 1;
      Bytes& one = video ? chunk.video : chunk.audio;
      one = make_bytes(fmp4::write_fragment(fragment_number_, {run}));
      if (!video) {
        if (seg_audio_.empty()) seg_audio_t_ = int64_t(run.base_decode_time), seg_audio_d_ = 0;
        for (const fmp4::Sample& smp : run.samples) seg_audio_d_ += smp.duration;
      }
      (video ? part_video_ : part_audio_) += *one;
      (video ? seg_video_ : seg_audio_) += *one;
    }
  if (out_.on_chunk) out_.on_chunk(chunk);
}

void CmafPackager::cut_part(int64_t end_dts, bool all_audio) {
  cut_chunk(end_dts, all_audio);
  if (part_data_.empty()) return;
  CmafPart part;
  part.sequence = next_sequence_;
  part.index = part_index_++;
  part.duration_s = double(end_dts - part_start_) / kTimestampHz;
  part.independent = part_independent_;
  part.discontinuity = seg_discontinuity_;
  part.init_id = init_id_;
  if (part.index == 0) part.cues = seg_cues_;
  part.data = make_bytes(std::exchange(part_data_, {}));
  if (!part_video_.empty()) part.video = make_bytes(std::exchange(part_video_, {}));
  if (!part_audio_.empty()) part.audio = make_bytes(std::exchange(part_audio_, {}));
  seg_duration_s_ += part.duration_s;
  part_end_ = end_dts;
  seg_parts_.push_back(part.data);
  if (out_.on_part) out_.on_part(part);
}

void CmafPackager::close_segment() {
  open_ = false;
  if (seg_parts_.empty()) return;
  CmafSegment s;
  s.sequence = next_sequence_++;
  s.duration_s = seg_duration_s_;
  s.discontinuity = seg_discontinuity_;
  s.init_id = init_id_;
  s.first_dts = seg_start_;
  s.duration_ticks = part_end_ - seg_start_;
  s.parts = uint32_t(seg_parts_.size());
  s.cues = std::move(seg_cues_);
  seg_cues_.clear();
  std::string data = fmp4::write_styp();
  for (const Bytes& p : seg_parts_) data += *p;
  s.data = make_bytes(std::move(data));
  seg_parts_.clear();
  if (!seg_video_.empty()) s.video = make_bytes(fmp4::write_styp() + seg_video_);
  if (!seg_audio_.empty()) s.audio = make_bytes(fmp4::write_styp() + seg_audio_);
  s.audio_first_dts = seg_audio_t_;
  s.audio_duration_ticks = seg_audio_d_;
  seg_video_.clear();
  seg_audio_.clear();
  if (out_.on_segment) out_.on_segment(std::move(s));
}

void CmafPackager::end_timeline(int64_t last_duration) {
  auto& primary = primary_video_ ? video_q_ : audio_q_;
  if (!primary.empty() && primary.back().duration < 0) primary.back().duration = last_duration;
  for (Queued& u : audio_q_)
    if (u.duration < 0) u.duration = nominal_duration(false);
  cut_part(last_primary_dts_ + last_duration, true);
  close_segment();
  video_q_.clear();
  audio_q_.clear();
  pending_discontinuity_ = true;
}

}  // namespace cdn::live
