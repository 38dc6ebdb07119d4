#include "bench/viewers/viewer.h"

#include <algorithm>

#include "bench/viewers/target.h"
#include "common/hls/parser.h"

namespace cdn::viewers {

namespace {
constexpr int kSegmentTries = 3;  // then the player skips the segment, as players do
constexpr double kRetryAfter = 1.0;

bool is_media_playlist(const std::string& text) {
  return text.find("#EXTINF") != std::string::npos ||
         text.find("#EXT-X-TARGETDURATION") != std::string::npos;
}
}  // namespace

Viewer::Viewer(ViewerHost& host, uint32_t id) : host_(host), id_(id) {
  for (auto* t : {&reload_timer_, &retry_timer_, &life_timer_}) {
    uv_timer_init(host_.loop(), t->get());
    t->mark_initialized();
    (*t)->data = this;
  }
}

void Viewer::schedule(uv_timer_t* timer, double seconds, void (*fn)(uv_timer_t*)) {
  uv_timer_start(timer, fn, uint64_t(std::max(0.0, seconds) * 1000), 0);
}

std::string Viewer::with_token(std::string target) const {
  return token_.empty() ? target : with_param(target, host_.options().token_param, token_);
}

void Viewer::join() {
  const Options& o = host_.options();
  active_ = true;
  ++session_;
  token_ = host_.token_for(id_, session_);
  conn_ = std::make_unique<Connection>(host_.loop(), host_.endpoint(), std::move(tls_session_));
  tracker_ = PlaylistTracker(o.start_back);
  buffer_ = PlaybackBuffer{};
  queue_.clear();
  reload_due_ = false;
  master_done_ = false;
  media_target_.clear();
  segment_tries_ = 0;
  join_time_ = host_.now();
  accounted_played_ = accounted_stalled_ = 0;
  accounted_stalls_ = accounted_connects_ = accounted_resumed_ = 0;
  host_.count([](Tally& t) { ++t.joins; });
  if (o.session_mean_s > 0) {
    std::exponential_distribution<double> watch(1.0 / o.session_mean_s);
    uv_timer_start(
        life_timer_.get(),
        [](uv_timer_t* t) {
          auto* v = static_cast<Viewer*>(t->data);
          v->leave();
          uv_timer_start(
              v->life_timer_.get(), [](uv_timer_t* t2) { static_cast<Viewer*>(t2->data)->join(); },
              uint64_t(v->host_.options().rejoin_after_s * 1000), 0);
        },
        uint64_t(watch(host_.rng()) * 1000) + 1, 0);
  }
  request(Want::Master, with_token(o.master_target));
}

void Viewer::leave() {
  if (!active_) return;
  account();
  active_ = false;
  uv_timer_stop(reload_timer_.get());
  uv_timer_stop(retry_timer_.get());
  uv_timer_stop(life_timer_.get());
  conn_->close();
  tls_session_ = conn_->take_session();
  conn_.reset();
  host_.count([](Tally& t) { ++t.leaves; });
}

void Viewer::account() {
  if (!active_) return;
  // A stream that ended and was played out has no stall after its last segment.
  double clock = host_.now();
  if (tracker_.ended() && queue_.empty() && buffer_.started())
    clock = std::min(clock, buffer_.runs_out());
  double played = buffer_.played(clock);
  double stalled = buffer_.stalled(clock);
  uint64_t stalls = buffer_.stalls();
  uint64_t connects = conn_ ? conn_->connects() : accounted_connects_;
  uint64_t resumed = conn_ ? conn_->resumed() : accounted_resumed_;
  double dp = played - accounted_played_, ds = stalled - accounted_stalled_;
  uint64_t dn = stalls - accounted_stalls_, dc = connects - accounted_connects_,
           dr = resumed - accounted_resumed_;
  accounted_played_ = played;
  accounted_stalled_ = stalled;
  accounted_stalls_ = stalls;
  accounted_connects_ = connects;
  accounted_resumed_ = resumed;
  host_.count([&](Tally& t) {
    t.played_s += dp;
    t.stalled_s += ds;
    t.stalls += dn;
    t.connects += dc;
    t.tls_resumed += dr;
  });
}

void Viewer::request(Want what, std::string target) {
  double started = host_.now();
  // The server may hold a blocking reload for up to three target durations before it answers.
  int64_t timeout_ms = int64_t(host_.options().timeout_s * 1000);
  if (what == Want::Playlist && tracker_.can_block_reload())
    timeout_ms += 3000 * int64_t(tracker_.target_duration());
  conn_->get(std::move(target), what != Want::Segment, timeout_ms,
             [this, what, started](Failure f, Response&& r) {
               host_.count([&](Tally& t) { t.wire_bytes += r.wire_bytes; });
               if (f != Failure::None || r.status != 200) return on_failure(what, f, r);
               switch (what) {
                 case Want::Master:
                   return on_master(std::move(r));
                 case Want::Playlist:
                   return on_playlist(std::move(r), false);
                 case Want::Segment:
                   return on_segment(std::move(r), started);
               }
             });
}

void Viewer::on_failure(Want what, Failure f, const Response& r) {
  host_.count([&](Tally& t) {
    t.add_error(f == Failure::None ? r.status : 0,
                f == Failure::None ? r.error_reason : to_string(f));
  });
  if (what == Want::Segment && ++segment_tries_ >= kSegmentTries) {
    queue_.pop_front();
    segment_tries_ = 0;
    host_.count([](Tally& t) { ++t.missed_segments; });
  }
  if (what != Want::Segment) reload_due_ = true;
  // Try again after a pause (a new connection if this one failed).
  schedule(retry_timer_.get(), kRetryAfter, [](uv_timer_t* t) {
    auto* v = static_cast<Viewer*>(t->data);
    if (!v->master_done_)
      return v->request(Want::Master, v->with_token(v->host_.options().master_target));
    v->pump();
  });
}

void Viewer::on_master(Response&& r) {
  host_.count([&](Tally& t) {
    ++t.playlists;
    t.playlist_bytes += r.body_bytes;
  });
  const Options& o = host_.options();
  if (is_media_playlist(r.body)) {
    media_target_ = o.master_target;
    master_done_ = true;
    return on_playlist(std::move(r), true);
  }
  auto master = hls::parse_master(r.body);
  if (!master || master->variants.empty()) {
    host_.count([](Tally& t) { t.add_error(200, "bad-master-playlist"); });
    return schedule(retry_timer_.get(), kRetryAfter, [](uv_timer_t* t) {
      auto* v = static_cast<Viewer*>(t->data);
      v->request(Want::Master, v->with_token(v->host_.options().master_target));
    });
  }
  const auto& vs = master->variants;
  size_t pick = 0;
  auto by_bw = [](const hls::Variant& a, const hls::Variant& b) {
    return a.bandwidth < b.bandwidth;
  };
  switch (o.rendition) {
    case RenditionChoice::First:
      pick = 0;
      break;
    case RenditionChoice::Lowest:
      pick = size_t(std::min_element(vs.begin(), vs.end(), by_bw) - vs.begin());
      break;
    case RenditionChoice::Highest:
      pick = size_t(std::max_element(vs.begin(), vs.end(), by_bw) - vs.begin());
      break;
    case RenditionChoice::Random:
      pick = std::uniform_int_distribution<size_t>(0, vs.size() - 1)(host_.rng());
      break;
  }
  media_target_ = resolve_target(o.master_target, vs[pick].uri);
  master_done_ = true;
  request(Want::Playlist, with_token(media_target_));
}

void Viewer::on_playlist(Response&& r, bool counted) {
  if (!counted)
    host_.count([&](Tally& t) {
      ++t.playlists;
      t.playlist_bytes += r.body_bytes;
      if (tracker_.can_block_reload()) ++t.blocking_reloads;
    });
  auto up = tracker_.apply(r.body);
  if (!up) {
    host_.count([](Tally& t) { t.add_error(200, "bad-media-playlist"); });
    reload_due_ = false;
    schedule(retry_timer_.get(), kRetryAfter, [](uv_timer_t* t) {
      auto* v = static_cast<Viewer*>(t->data);
      v->reload_due_ = true;
      v->pump();
    });
    return pump();
  }
  uint64_t disc = 0;
  for (auto& s : up->segments) {
    disc += s.discontinuity;
    queue_.push_back(std::move(s));
  }
  host_.count([&](Tally& t) {
    t.missed_segments += up->missed;
    t.discontinuities += disc;
  });
  reload_due_ = false;
  if (!tracker_.ended()) {
    int64_t delay = tracker_.reload_delay_ms(up->changed);
    if (delay == 0) {
      reload_due_ = true;
    } else {
      schedule(reload_timer_.get(), double(delay) / 1000, [](uv_timer_t* t) {
        auto* v = static_cast<Viewer*>(t->data);
        v->reload_due_ = true;
        v->pump();
      });
    }
  }
  pump();
}

void Viewer::on_segment(Response&& r, double started) {
  double now = host_.now();
  const NewSegment seg = queue_.front();
  queue_.pop_front();
  segment_tries_ = 0;
  bool first = !buffer_.started();
  buffer_.on_segment(now, seg.duration);
  host_.count([&](Tally& t) {
    ++t.segments;
    t.segment_bytes += r.body_bytes;
    t.segment_us.add(uint64_t((now - started) * 1e6));
    if (first) t.startup_us.add(uint64_t((now - join_time_) * 1e6));
  });
  pump();
}

void Viewer::pump() {
  if (!active_ || conn_->busy()) return;
  if (!master_done_) return;
  if (!queue_.empty()) {
    return request(Want::Segment, with_token(resolve_target(media_target_, queue_.front().uri)));
  }
  if (reload_due_ && !tracker_.ended()) {
    reload_due_ = false;
    request(Want::Playlist, with_token(tracker_.reload_target(media_target_)));
  }
}

}  // namespace cdn::viewers
