#include "origin-shield/origin/live_cmaf_serving.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdlib>

#include "common/hls/datetime.h"
#include "common/http/query.h"
#include "common/util/clock.h"
#include "common/util/strings.h"
#include "origin-shield/origin/live/dash_mpd.h"
#include "origin-shield/origin/live_growing_body.h"
#include "origin-shield/origin/live_http.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

namespace {

// The latency dash.js is asked to hold on a low-latency DASH channel with @duration addressing
// (ServiceDescription Latency@target).
constexpr int64_t kLowLatencyDashTargetMs = 1500;

// A non-negative decimal, or nullopt.
std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  for (char ch : s)
    if (ch < '0' || ch > '9') return std::nullopt;
  auto v = parse_int(s);
  return v ? std::optional<uint64_t>(uint64_t(*v)) : std::nullopt;
}

LiveAnswer media_answer(const http::Request& req, const std::string& etag, int64_t modified_s,
                        const Bytes& data, int64_t max_age_s) {
  http::Headers h;
  add_cors(h);
  h.set("Content-Type", "video/mp4");
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age_s) + ", immutable");
  return live_representation(req, std::move(h), etag, modified_s, data);
}

std::string media_etag(std::string_view kind, uint64_t a, uint64_t b, size_t size) {
  char buf[96];
  snprintf(buf, sizeof buf, "\"%.*s-%" PRIu64 "-%" PRIu64 "-%zx\"", int(kind.size()), kind.data(),
           a, b, size);
  return buf;
}

LiveAnswer held_growing(const CmafRequest& c, GrowingTarget t) {
  LiveAnswer a;
  const int target = std::max(1, c.rendition.snapshot()->cmaf->playlist->target_duration());
  a.hold.emplace();
  a.hold->rendition = &c.rendition;
  a.hold->growing = t;
  a.hold->timeout_ms = 3000LL * target;
  return a;
}

}  // namespace

LiveAnswer cmaf_playlist(const CmafRequest& c, const std::string& file, bool may_hold) {
  auto snap = c.rendition.snapshot();
  const auto& cmaf = snap->cmaf;
  if (!cmaf || cmaf->playlist->empty()) return live_error(404, "no-segments-yet");
  const live::LlhlsPlaylist& pl = *cmaf->playlist;
  const int target = std::max(1, pl.target_duration());
  const bool ll = snap->formats.llhls;
  auto msn_text = ll ? http::query_value(c.req.query, "_HLS_msn") : std::nullopt;
  auto part_text = ll ? http::query_value(c.req.query, "_HLS_part") : std::nullopt;
  auto skip_text = ll ? http::query_value(c.req.query, "_HLS_skip") : std::nullopt;
  const bool skip = skip_text && (*skip_text == "YES" || *skip_text == "v2");
  int64_t max_age = 1;  // the live edge moves every part
  if (msn_text || part_text) {
    const auto msn_parsed = msn_text ? number(*msn_text) : std::nullopt;
    const auto part_parsed = part_text ? number(*part_text) : std::nullopt;
    if (!msn_parsed || (part_text && !part_parsed))
      return live_error(400, "bad-hls-blocking-request");
    const uint64_t msn = msn_parsed.value_or(0);
    const int64_t part_index = part_parsed ? int64_t(*part_parsed) : -1;
    // RFC 8216bis §6.2.5.2: more than two segments past the last one is an error.
    if (msn > pl.next_part().msn + 2) return live_error(400, "hls-msn-too-far-ahead");
    if (!pl.has(msn, part_index) && !cmaf->ended) {
      if (!may_hold) return live_error(503, "blocking-reload-unsatisfied");
      LiveAnswer a;
      a.hold.emplace();
      a.hold->rendition = &c.rendition;
      a.hold->msn = msn;
      a.hold->part_index = part_index;
      a.hold->timeout_ms = 3000LL * target;
      return a;
    }
    max_age = 6 * target;  // an answer for a given msn/part stays right for latecomers
  }
  std::vector<live::RenditionReport> reports;
  if (ll)
    for (const LiveRendition* s : c.siblings) {
      if (s == &c.rendition) continue;
      auto other = s->snapshot()->cmaf;
      if (!other) continue;
      auto last = other->playlist->last_part();
      if (!last) continue;
      reports.push_back({"../" + s->name() + "/" + file, last->msn, last->part});
    }
  Bytes body = make_bytes(pl.render(skip, reports));
  http::Headers h = live_playlist_headers(max_age);
  if (cmaf->ended) h.set("X-Live-State", "ended");
  return live_representation(c.req, std::move(h), quoted_hash(*body), cmaf->modified_s, body);
}

LiveAnswer cmaf_file(const CmafRequest& c, std::string_view file) {
  auto snap = c.rendition.snapshot();
  const auto& cmaf = snap->cmaf;
  if (!cmaf) return live_error(404, "not-found");
  const int64_t max_age = c.segment_max_age_s;
  // Per-track files (DASH) carry a "v-" or "a-" prefix.
  const char track =
      file.size() > 2 && file[1] == '-' && (file[0] == 'v' || file[0] == 'a') ? file[0] : 0;
  if (track) file.remove_prefix(2);
  // An init segment ('i') or a media segment ('s') by number, muxed or one track of it; the
  // ETag kind names which ("i", "iv", "ia", "s", "sv", "sa").
  const auto tracked = [&](const auto& by_number, std::optional<uint64_t> id, char kind) {
    auto it = id ? by_number.find(*id) : by_number.end();
    if (it == by_number.end()) return live_error(404, "not-found");
    const auto& e = it->second;
    const Bytes& b = track == 'v' ? e.video : track == 'a' ? e.audio : e.muxed;
    if (!b) return live_error(404, "not-found");
    const char tag[3] = {kind, track, 0};
    return media_answer(c.req, media_etag(tag, it->first, 0, b->size()), cmaf->modified_s, b,
                        max_age);
  };
  if (file.starts_with("init-") && file.ends_with(".mp4"))
    return tracked(cmaf->inits, number(file.substr(5, file.size() - 9)), 'i');
  if (!file.ends_with(".m4s")) return live_error(404, "not-found");
  file.remove_suffix(4);
  if (file.starts_with("part-") && !track) {
    const std::string_view rest = file.substr(5);
    const size_t dash = rest.find('-');
    auto session = number(rest.substr(0, dash));
    auto n = dash == std::string_view::npos ? std::nullopt : number(rest.substr(dash + 1));
    if (!session || !n || *session != cmaf->session) return live_error(404, "not-found");
    if (auto it = cmaf->parts.find(*n); it != cmaf->parts.end())
      return media_answer(c.req, media_etag("p", *session, *n, it->second->size()),
                          cmaf->modified_s, it->second, max_age);
    // The preload-hinted part: answered at once and sent as it is written.
    if (*n != cmaf->next_part || cmaf->ended || !snap->formats.llhls)
      return live_error(404, "not-found");
    GrowingTarget t;
    t.session = *session;
    t.number = *n;
    return held_growing(c, t);
  }
  auto msn = number(file);
  // Low-latency DASH: the segment in progress (or the next one) is sent as it is written.
  if (msn && !cmaf->segments.contains(*msn) && snap->formats.low_latency_dash() && !cmaf->ended) {
    const uint64_t next = cmaf->segments.empty() ? 0 : cmaf->segments.rbegin()->first + 1;
    const bool growing = cmaf->segment_growing && cmaf->segment_growing->number == *msn;
    if (growing || (*msn == next && !cmaf->segments.empty())) {
      GrowingTarget t;
      t.part = false;
      t.number = *msn;
      t.track = track;
      return held_growing(c, t);
    }
  }
  return tracked(cmaf->segments, msn, 's');
}

LiveAnswer dash_manifest(const http::Request& req, const std::vector<LiveRendition*>& renditions) {
  live::DashManifest m;
  m.published_ms = unix_now_ms();
  m.utc_timing_url = "/live/time";
  bool any = false, all_ended = true, from_start = true, any_numbered = false;
  int64_t max_d = 0, window = 0;
  for (const LiveRendition* r : renditions) {
    auto snap = r->snapshot();
    const auto& c = snap->cmaf;
    if (!snap->formats.dash || !c || c->segments.empty() || c->media_zero_ms == 0) continue;
    // Only the segments of the latest init: a new init (encoder restart) is a new timeline.
    const uint64_t init = c->segments.rbegin()->second.init_id;
    live::DashRepresentation v, a;
    v.id = r->name();
    v.prefix = r->name() + "/v-";
    v.codecs = snap->media.video_codec_string;
    v.width = snap->media.width;
    v.height = snap->media.height;
    a.id = r->name() + "-audio";
    a.prefix = r->name() + "/a-";
    a.codecs = snap->media.audio_codec_string;
    a.sample_rate = snap->media.sample_rate;
    a.channels = snap->media.channels;
    v.init_id = a.init_id = init;
    int64_t span = 0;
    for (const auto& [msn, s] : c->segments) {
      if (s.init_id != init || s.d <= 0) continue;
      if (s.video) {
        v.segments.push_back({msn, s.t, s.d});
        v.bandwidth = std::max(v.bandwidth, uint64_t(s.video->size() * 8 * 90000 / s.d));
      }
      if (s.audio && s.audio_d > 0) {
        a.segments.push_back({msn, s.audio_t, s.audio_d});
        a.bandwidth = std::max(a.bandwidth, uint64_t(s.audio->size() * 8 * 90000 / s.audio_d));
      }
      max_d = std::max(max_d, s.d);
      span += s.d;
    }
    if (v.segments.empty() && a.segments.empty()) continue;
    if (!any) {
      m.availability_start_ms = c->media_zero_ms;  // one clock: the first rendition's
      m.presentation_time_offset = v.segments.empty() ? a.segments.front().t : v.segments.front().t;
    }
    // Still held from the first segment of its timeline (whose number is its init's id).
    from_start =
        from_start && (v.segments.empty() ? a.segments : v.segments).front().number == init;
    any = true;
    all_ended = all_ended && c->ended;
    window = std::max(window, span);
    m.min_update_period_s = std::max(1, c->playlist->target_duration());
    if (snap->formats.low_latency_dash()) {
      // A segment may be asked for from the end of its first part on (it is sent as written).
      const double part = c->playlist->part_target_s();
      m.availability_time_offset_s = std::max(0.0, double(max_d) / 90000 - part);
      // One template for every rendition: the first one's grid, which the others must share
      // (numbers and media times: renditions of one encoder), or none of them gets it.
      const auto grid = live::duration_numbering(v.segments, init);
      if (!any_numbered) m.numbering = grid;
      if (m.numbering && (!grid || grid->start_number != m.numbering->start_number ||
                          grid->duration != m.numbering->duration ||
                          std::llabs(grid->start_t - m.numbering->start_t) > grid->duration / 10))
        m.numbering.reset();
      any_numbered = true;
      if (m.numbering) {
        // The player computes the segment in progress from the clock and gets it as it is
        // written: its latency is the chain's delay plus its own buffer, not a segment.
        m.latency_target_ms = kLowLatencyDashTargetMs;
      } else {
        // A SegmentTimeline lists complete segments only, so a player's live edge trails the
        // newest one by up to a segment plus a manifest refresh: a target below that makes
        // dash.js speed up into an empty buffer (it stalled at a 3-part target). Two segments
        // and a part.
        m.latency_target_ms = std::llround(1000 * (2 * double(max_d) / 90000 + part));
      }
    }
    if (m.video.empty() && m.events.empty())  // one rendition's splices: they are the channel's
      for (const auto& [msn, s] : c->segments)
        for (const live::Cue& cue : s.cues)
          if (s.init_id == init && cue.direction == live::SpliceDirection::kOut)
            m.events.push_back({cue.event_id, s.t,
                                cue.duration_s ? std::llround(*cue.duration_s * 90000) : 0,
                                cue.section});
    if (!v.segments.empty()) m.video.push_back(std::move(v));
    if (!m.audio && !a.segments.empty()) m.audio = std::move(a);
  }
  if (!any) return live_error(404, "no-segments-yet");
  m.ended = all_ended;
  m.whole = all_ended && from_start;
  m.duration_s = double(window) / 90000;
  m.max_segment_s = double(max_d) / 90000;
  m.time_shift_buffer_s = double(window) / 90000;
  Bytes body = make_bytes(live::write_mpd(m));
  http::Headers h;
  add_cors(h);
  h.set("Content-Type", "application/dash+xml");
  h.set("Cache-Control", "public, max-age=1");
  return live_representation(req, std::move(h), quoted_hash(*body), unix_now(), body);
}

LiveAnswer time_answer() {
  LiveAnswer a;
  add_cors(a.headers);
  a.headers.set("Content-Type", "text/plain");
  a.headers.set("Cache-Control", "no-store");
  a.body = make_bytes(hls::format_iso8601_ms(unix_now_ms()));
  return a;
}

void LiveServing::serve_held(const std::shared_ptr<http::Exchange>& ex, LiveAnswer a,
                             std::string rest, std::string key) const {
  const CmafHold hold = *a.hold;
  const LiveRendition* r = hold.rendition;
  if (hold.growing) {
    http::Headers h;
    add_cors(h);
    h.set("Content-Type", "video/mp4");
    h.set("Cache-Control",
          "public, max-age=" + std::to_string(segment_max_age_s()) + ", immutable");
    h.set("Surrogate-Key", key);
    return stream_growing(ex, *r, *hold.growing, std::move(h), hold.timeout_ms);
  }
  auto current = [r]() { return r->snapshot()->cmaf; };
  PartWaiters::Ready ready = [hold](const CmafSnapshot& s) {
    return s.playlist->has(hold.msn, hold.part_index);
  };
  PartWaiters::Done done = [this, ex, rest, key](PartWaiters::Outcome o) {
    if (o == PartWaiters::Outcome::kGone || !ex->alive()) return;
    if (o == PartWaiters::Outcome::kTimeout) return reject_live(ex, 503, "blocking-reload-timeout");
    LiveAnswer again = answer(ex->request(), rest);
    if (again.hold) return reject_live(ex, 503, "blocking-reload-unsatisfied");
    if (!again.error) again.headers.set("Surrogate-Key", key);
    respond_live(ex, std::move(again));
  };
  std::function<void()> cancel;
  if (!r->waiters().park(ex->worker(), hold.timeout_ms, std::move(ready), std::move(done), &cancel,
                         current))
    return reject_live(ex, 503, "too-many-held-requests");
  ex->on_abort(std::move(cancel));
}

}  // namespace cdn::origin
