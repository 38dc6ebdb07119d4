#include "origin-shield/origin/live_cmaf_output.h"

#include <algorithm>

#include "common/util/clock.h"
#include "origin-shield/origin/live/fmp4_writer.h"
#include "origin-shield/origin/live_cmaf_store.h"

namespace cdn::origin {

CmafOutput::CmafOutput(CmafOutputSettings settings)
    : settings_(settings), playlist_(settings.playlist) {}

uint64_t CmafOutput::next_sequence() const {
  return packager_ ? std::max(next_sequence_, packager_->next_sequence()) : next_sequence_;
}

void CmafOutput::start(uint64_t first_sequence, bool discontinuity) {
  flush();
  live::CmafConfig c;
  c.target_duration_s = settings_.playlist.target_duration_s;
  c.part_target_s = settings_.playlist.part_target_s;
  c.chunk_target_s = c.part_target_s / kChunksPerPart;
  c.first_sequence = std::max(first_sequence, next_sequence_);
  c.first_discontinuity = discontinuity || !playlist_.empty();
  c.per_track = settings_.per_track;
  live::CmafPackager::Output out;
  out.on_init = [this](const live::CmafInit& init) {
    inits_[init.id] = init;
    if (settings_.persist.put) settings_.persist.put('i', init.id, encode_cmaf_init(init));
    changed_ = true;
  };
  out.on_chunk = [this](const live::CmafChunk& ch) { on_chunk(ch); };
  out.on_part = [this](const live::CmafPart& p) { on_part(p); };
  out.on_segment = [this](live::CmafSegment&& s) { on_segment(std::move(s)); };
  packager_ = std::make_unique<live::CmafPackager>(c, std::move(out));
  session_ = c.first_sequence;
  next_part_ = 0;
  parts_.clear();
  part_growing_ = {};
  segment_growing_.reset();
  first_part_of_.clear();
  media_zero_ms_ = 0;  // a new encoder's timeline
  changed_ = true;
}

void CmafOutput::feed(std::string_view ts_bytes) {
  if (packager_) packager_->feed(ts_bytes);
}

void CmafOutput::flush() {
  if (!packager_) return;
  packager_->flush();
  next_sequence_ = std::max(next_sequence_, packager_->next_sequence());
}

void CmafOutput::end() {
  flush();
  packager_.reset();
  if (playlist_.empty() || playlist_.ended()) return;
  playlist_.end();
  persist_state();
  changed_ = true;
}

void CmafOutput::persist_state() {
  if (settings_.persist.put)
    settings_.persist.put('p', std::nullopt,
                          encode_cmaf_state({playlist_.serialize(), media_zero_ms_}));
}

void CmafOutput::restore(CmafRestored&& stored) {
  if (stored.state) {
    if (auto pl = live::LlhlsPlaylist::deserialize(stored.state->playlist, settings_.playlist))
      playlist_ = std::move(*pl);
    media_zero_ms_ = stored.state->media_zero_ms;
  }
  // Only what the restored playlist still lists (and its inits) is served again.
  const auto last = playlist_.last_msn();
  if (!last) return;
  inits_ = std::move(stored.inits);
  for (auto& [msn, seg] : stored.segments)
    if (msn <= *last && inits_.contains(seg.init_id)) segments_[msn] = std::move(seg);
  while (segments_.size() > settings_.memory_segments) segments_.erase(segments_.begin());
  next_sequence_ = *last + 1;
  changed_ = true;
}

void CmafOutput::on_chunk(const live::CmafChunk& ch) {
  part_growing_.number = next_part_;
  part_growing_.muxed.push_back(ch.data);
  if (!segment_growing_ || segment_growing_->number != ch.sequence) {
    static const Bytes kStyp = make_bytes(live::fmp4::write_styp());
    segment_growing_ = CmafGrowing{ch.sequence, {kStyp}, {}, {}};
  }
  CmafGrowing& seg = *segment_growing_;
  seg.muxed.push_back(ch.data);
  for (auto [track, list] : {std::pair{&ch.video, &seg.video}, std::pair{&ch.audio, &seg.audio}}) {
    if (!*track) continue;
    if (list->empty()) list->push_back(seg.muxed.front());  // the styp
    list->push_back(*track);
  }
  changed_ = true;
}

void CmafOutput::on_part(const live::CmafPart& p) {
  if (p.index == 0) first_part_of_[p.sequence] = next_part_;
  playlist_.add_part(p, session_, next_part_, unix_now_ms());
  parts_[next_part_++] = p.data;
  part_growing_ = {};
  changed_ = true;
}

void CmafOutput::on_segment(live::CmafSegment&& s) {
  playlist_.add_segment(s);
  segment_growing_.reset();
  // The session's media time 0 on the wall clock, fixed by its first segment: DASH clients place
  // every later segment's availability from it.
  if (media_zero_ms_ == 0)
    media_zero_ms_ = unix_now_ms() - (s.first_dts + s.duration_ticks) / (live::kTimestampHz / 1000);
  const uint64_t msn = s.sequence;
  segments_[msn] = stored_segment(std::move(s));
  next_sequence_ = std::max(next_sequence_, msn + 1);
  if (settings_.persist.put) {
    settings_.persist.put('s', msn, encode_cmaf_segment(segments_[msn]));
    persist_state();
  }
  // Memory (and the store): the live window plus some slack; parts of the segments that left it
  // go too.
  std::vector<uint64_t> gone_segments, gone_inits;
  while (segments_.size() > settings_.memory_segments) {
    const uint64_t gone = segments_.begin()->first;
    gone_segments.push_back(gone);
    segments_.erase(segments_.begin());
    auto next = first_part_of_.upper_bound(gone);
    if (next != first_part_of_.end())
      parts_.erase(parts_.begin(), parts_.lower_bound(next->second));
    first_part_of_.erase(first_part_of_.begin(), next);
  }
  // Init segments no kept segment needs any more.
  const uint64_t oldest = segments_.empty() ? 0 : segments_.begin()->first;
  while (inits_.size() > 1 && std::next(inits_.begin())->first <= oldest) {
    gone_inits.push_back(inits_.begin()->first);
    inits_.erase(inits_.begin());
  }
  if (settings_.persist.remove) {
    if (!gone_segments.empty()) settings_.persist.remove('s', std::move(gone_segments));
    if (!gone_inits.empty()) settings_.persist.remove('i', std::move(gone_inits));
  }
  changed_ = true;
}

std::shared_ptr<const CmafSnapshot> CmafOutput::take_changes() {
  if (!changed_) return nullptr;
  changed_ = false;
  auto s = std::make_shared<CmafSnapshot>();
  s->playlist = std::make_shared<const live::LlhlsPlaylist>(playlist_);
  s->inits = inits_;
  s->segments = segments_;
  s->session = session_;
  s->parts = parts_;
  s->media_zero_ms = media_zero_ms_;
  s->next_part = next_part_;
  s->part_growing = part_growing_;
  s->segment_growing = segment_growing_;
  s->ended = playlist_.ended();
  s->modified_s = unix_now();
  return s;
}

}  // namespace cdn::origin
