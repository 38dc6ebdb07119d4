#include "origin-shield/origin/live_rendition.h"

#include "common/obs/log.h"
#include "common/util/clock.h"
#include "origin-shield/origin/live_http.h"

namespace cdn::origin {

namespace {

obs::Counter& rendition_counter(const char* name, const char* help, const std::string& channel,
                                const std::string& rendition, obs::Labels extra = {}) {
  obs::Labels labels{{"channel", channel}, {"rendition", rendition}};
  labels.insert(labels.end(), extra.begin(), extra.end());
  return obs::metrics().counter(name, help, labels);
}

}  // namespace

LiveRendition::Counters::Counters(const std::string& ch, const std::string& r)
    : ingest_primary(rendition_counter("cdn_live_ingest_bytes_total",
                                       "MPEG-TS bytes received by live ingest", ch, r,
                                       {{"role", "primary"}})),
      ingest_backup(rendition_counter("cdn_live_ingest_bytes_total",
                                      "MPEG-TS bytes received by live ingest", ch, r,
                                      {{"role", "backup"}})),
      dropped(rendition_counter("cdn_live_ingest_dropped_bytes_total",
                                "Bytes of standby inputs (not the active one)", ch, r)),
      switches(rendition_counter("cdn_live_input_switches_total",
                                 "Times a rendition's active ingest input changed", ch, r)),
      segments(rendition_counter("cdn_live_segments_total", "Live segments completed", ch, r)),
      discontinuities(rendition_counter("cdn_live_discontinuities_total",
                                        "Live segments starting a new timeline", ch, r)),
      forced_cuts(rendition_counter("cdn_live_forced_cuts_total",
                                    "Live segments cut without a keyframe", ch, r)),
      expired(rendition_counter("cdn_live_segments_expired_total",
                                "Live segments deleted after retention", ch, r)),
      param_sets_repeated(rendition_counter(
          "cdn_live_parameter_sets_repeated_total",
          "Keyframes that got the SPS/PPS (VPS) an encoder sent only earlier", ch, r)) {}

LiveRendition::LiveRendition(std::string channel, std::string name, bool configured, bool vod,
                             RenditionSettings settings, std::shared_ptr<LiveStorage> storage)
    : channel_(std::move(channel)),
      name_(std::move(name)),
      vod_(vod),
      ingest_(configured),
      settings_(std::move(settings)),
      storage_(std::move(storage)),
      counters_(channel_, name_) {
  meta_.vod = vod_;
}

void LiveRendition::restore(const std::optional<RenditionMeta>& meta,
                            const std::optional<std::string>& state) {
  std::lock_guard lk(mu_);
  if (meta) {
    meta_.media = meta->media;
    meta_encoded_ = meta_.encode();
  }
  if (state) {
    auto pl = live::LivePlaylist::deserialize(*state, settings_.playlist);
    if (pl) {
      playlist_.emplace(std::move(pl.value()));
      // A live stream interrupted by the restart ends unless its encoder is back within input_gap.
      live_ = ingest_ && !playlist_->ended() && playlist_->size() > 0;
      any_last_ms_ = mono_ms();
      obs::log(obs::Level::Info, "live rendition restored",
               {{"channel", channel_},
                {"rendition", name_},
                {"next_sequence", std::to_string(playlist_->next_sequence())}});
    } else {
      obs::log(obs::Level::Error, "live playlist state unreadable, starting over",
               {{"channel", channel_}, {"rendition", name_}, {"error", pl.error().message}});
    }
  }
  if (!playlist_) playlist_.emplace(settings_.playlist);
  if (cmaf_) {
    cmaf_->restore(storage_->load_cmaf(channel_, name_));
    cmaf_snapshot_ = cmaf_->take_changes();
  }
  refresh_playlists();
  publish();
}

void LiveRendition::take_over(const LiveSource& src) {
  flush_segmenter();
  live::SegmenterConfig sc;
  sc.target_duration_s = settings_.target_duration_s;
  sc.first_sequence = playlist_->next_sequence();
  sc.first_discontinuity = playlist_->next_sequence() > 0;
  if (sc.first_discontinuity) playlist_->mark_discontinuity();
  seg_ = std::make_unique<live::Segmenter>(sc,
                                           [this](live::Segment&& s) { on_segment(std::move(s)); });
  param_sets_ = std::make_unique<ingest::ParamSetRepeater>();  // a new encoder's own
  if (cmaf_) cmaf_->start(playlist_->next_sequence(), sc.first_discontinuity);
  const bool switched = active_ != 0;
  active_ = src.id;
  active_open_ = src.open.load();
  obs::log(obs::Level::Info, switched ? "live input takeover" : "live input active",
           {{"channel", channel_},
            {"rendition", name_},
            {"input", src.kind},
            {"role", src.backup ? "backup" : "primary"}});
  counters_.switches.inc();
}

void LiveRendition::flush_segmenter() {
  if (!seg_) return;
  param_sets_->flush(repeated_);
  feed_outputs(repeated_);
  repeated_.clear();
  seg_->flush();
  if (cmaf_) cmaf_->flush();
  publish_cmaf_changes();
}

void LiveRendition::feed_outputs(std::string_view ts) {
  seg_->feed(ts);
  if (cmaf_) cmaf_->feed(ts);
}

void LiveRendition::set_formats(const LiveFormats& formats) {
  std::lock_guard lk(mu_);
  if (formats == formats_) return;
  const bool rebuild =
      formats.fmp4 && (!cmaf_ || formats.llhls != formats_.llhls || formats.dash != formats_.dash);
  formats_ = formats;
  if (!formats.fmp4) {
    cmaf_.reset();
    cmaf_snapshot_.reset();
  } else if (rebuild) {
    CmafOutputSettings cs;
    cs.playlist.target_duration_s = settings_.target_duration_s;
    cs.playlist.part_target_s = settings_.part_target_s;
    cs.playlist.window_segments = settings_.playlist.window_segments;
    cs.playlist.parts = formats.llhls;
    cs.playlist.vod = vod_;
    cs.memory_segments = settings_.memory_segments;
    cs.per_track = formats.dash;
    cs.persist = storage_->cmaf_persist(channel_, name_);
    cmaf_ = std::make_unique<CmafOutput>(cs);
    cmaf_snapshot_.reset();
    // Mid-stream: packaging starts at the next keyframe of the running input.
    if (seg_) cmaf_->start(playlist_->next_sequence(), false);
  }
  if (playlist_) publish();  // before restore() nothing is published yet
}

void LiveRendition::publish_cmaf_changes() {
  if (!cmaf_) return;
  auto snap = cmaf_->take_changes();
  if (!snap) return;
  cmaf_snapshot_ = snap;
  publish();
  waiters_.wake(*snap, snap->ended);
}

void LiveRendition::on_data(const LiveSource& src, const char* data, size_t n) {
  (src.backup ? counters_.ingest_backup : counters_.ingest_primary).inc(n);
  std::lock_guard lk(mu_);
  // A cut input (key rotated, channel removed) may still have bytes in flight.
  if (!src.open || !ingest_) {
    counters_.dropped.inc(n);
    return;
  }
  const int64_t now = mono_ms();
  any_last_ms_ = now;
  if (active_ != src.id) {
    const bool active_silent = now - active_last_ms_ >= settings_.input_gap_ms;
    const bool can = active_ == 0 || active_silent || (!src.backup && !active_open_);
    if (!can) {
      counters_.dropped.inc(n);
      return;
    }
    take_over(src);
  }
  active_last_ms_ = now;
  const uint64_t repeated = param_sets_->stats().repeated;
  param_sets_->feed(std::string_view(data, n), repeated_);
  if (param_sets_->stats().repeated != repeated)
    counters_.param_sets_repeated.inc(param_sets_->stats().repeated - repeated);
  feed_outputs(repeated_);
  repeated_.clear();
  publish_cmaf_changes();
}

void LiveRendition::on_source_end(LiveSource& src) {
  std::lock_guard lk(mu_);
  src.open = false;
  if (active_ != src.id) return;
  active_open_ = false;
  if (seg_) {
    flush_segmenter();  // the segment in progress is complete as far as this input goes
    seg_.reset();
  }
}

void LiveRendition::set_ingest(bool on) {
  if (ingest_ == on) return;  // unchanged renditions: not even a moment of their ingest lock
  std::lock_guard lk(mu_);
  if (ingest_ == on) return;
  ingest_ = on;
  if (!on) end_stream();
}

void LiveRendition::housekeep(int64_t now_mono_ms, int64_t now_wall_ms) {
  std::lock_guard lk(mu_);
  if (live_ && now_mono_ms - any_last_ms_ >= settings_.input_gap_ms) end_stream();
  auto expired = playlist_->take_expired(now_wall_ms);
  if (expired.empty()) return;
  for (uint64_t s : expired) recent_.erase(s);
  counters_.expired.inc(expired.size());
  storage_->remove_segments(channel_, name_, std::move(expired));
  storage_->save_state(channel_, name_, playlist_->serialize());
  publish();
}

void LiveRendition::end_stream() {
  if (seg_) {
    flush_segmenter();
    seg_.reset();
  }
  active_ = 0;
  active_open_ = false;
  live_ = false;
  if (cmaf_) {
    cmaf_->end();
    publish_cmaf_changes();
  }
  if (playlist_->size() == 0) return;
  playlist_->end();
  storage_->save_state(channel_, name_, playlist_->serialize());
  refresh_playlists();
  publish();
  obs::log(obs::Level::Info, "live stream ended",
           {{"channel", channel_},
            {"rendition", name_},
            {"next_sequence", std::to_string(playlist_->next_sequence())}});
}

void LiveRendition::on_segment(live::Segment&& s) {
  if (s.data.empty() || s.duration_s <= 0) return;
  const int64_t now = unix_now_ms();
  const uint64_t seq = playlist_->append(s, now);
  live_ = true;
  if (seg_) {
    const live::MediaInfo& m = seg_->media();
    if (m.width || !m.video_codec_string.empty() || !m.audio_codec_string.empty()) meta_.media = m;
  }
  std::string meta = meta_.encode();
  const bool meta_changed = meta != meta_encoded_;
  if (meta_changed) meta_encoded_ = meta;
  auto mem = std::make_shared<MemSegment>();
  mem->data = make_bytes(std::move(s.data));
  mem->completed_ms = now;
  storage_->save_segment(channel_, name_, seq, now, *mem->data, playlist_->serialize(),
                         meta_changed ? std::move(meta) : std::string());
  recent_[seq] = std::move(mem);
  while (recent_.size() > settings_.memory_segments) recent_.erase(recent_.begin());
  refresh_playlists();
  publish();
  counters_.segments.inc();
  if (s.discontinuity) counters_.discontinuities.inc();
  if (!s.starts_with_keyframe) counters_.forced_cuts.inc();
}

void LiveRendition::refresh_playlists() {
  live_text_ = make_bytes(playlist_->live_playlist());
  event_text_ = make_bytes(playlist_->event_playlist());
  live_etag_ = quoted_hash(*live_text_);
  event_etag_ = quoted_hash(*event_text_);
  modified_s_ = unix_now();
}

void LiveRendition::publish() {
  auto s = std::make_shared<RenditionSnapshot>();
  s->live_text = live_text_;
  s->event_text = event_text_;
  s->live_etag = live_etag_;
  s->event_etag = event_etag_;
  s->modified_s = modified_s_;
  s->ended = playlist_->ended();
  s->segments = playlist_->size();
  s->next_sequence = playlist_->next_sequence();
  s->target_duration = playlist_->target_duration();
  s->peak_bandwidth = playlist_->peak_bandwidth();
  s->average_bandwidth = playlist_->average_bandwidth();
  s->media = meta_.media;
  s->recent = recent_;
  s->formats = formats_;
  s->cmaf = cmaf_snapshot_;
  snapshot_.store(std::move(s));
}

}  // namespace cdn::origin
