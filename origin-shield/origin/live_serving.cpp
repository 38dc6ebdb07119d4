#include "origin-shield/origin/live_serving.h"

#include <algorithm>
#include <cinttypes>

#include "common/hls/writer.h"
#include "common/http/conditional.h"
#include "common/net/worker.h"
#include "common/util/clock.h"
#include "common/util/http_date.h"
#include "common/util/strings.h"
#include "origin-shield/origin/live/master_builder.h"
#include "origin-shield/origin/live_cmaf_serving.h"
#include "origin-shield/origin/live_http.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

namespace {

LiveAnswer error(int status, const char* reason) { return live_error(status, reason); }

LiveAnswer representation(const http::Request& req, http::Headers h, const std::string& etag,
                          int64_t modified_s, Bytes body) {
  return live_representation(req, std::move(h), etag, modified_s, std::move(body));
}

http::Headers playlist_headers(int64_t max_age_s) { return live_playlist_headers(max_age_s); }

LiveAnswer segment_answer(const http::Request& req, uint64_t seq, const Bytes& data,
                          int64_t completed_ms, int64_t max_age_s) {
  http::Headers h;
  add_cors(h);
  h.set("Content-Type", "video/mp2t");
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age_s) + ", immutable");
  char etag[64];
  snprintf(etag, sizeof etag, "\"%" PRIu64 "-%zx-%" PRIx64 "\"", seq, data->size(),
           uint64_t(completed_ms));
  return representation(req, std::move(h), etag, completed_ms / 1000, data);
}

}  // namespace

// An answer that needs no store read.
void respond_live(const std::shared_ptr<http::Exchange>& ex, LiveAnswer a) {
  if (a.error) return reject_live(ex, a.status, a.error);
  Body body;
  if (a.body && !a.body->empty()) body.append(std::move(a.body));
  ex->respond(a.status, std::move(a.headers), body);
}

namespace {

}  // namespace

LiveAnswer live_error(int status, const char* reason) {
  LiveAnswer a;
  a.status = status;
  a.error = reason;
  return a;
}

LiveAnswer live_representation(const http::Request& req, http::Headers h, const std::string& etag,
                               int64_t modified_s, Bytes body) {
  LiveAnswer a;
  h.set("ETag", etag);
  h.set("Last-Modified", format_http_date(modified_s));
  a.headers = std::move(h);
  if (http::not_modified(req, etag, modified_s)) {
    a.status = 304;
    return a;
  }
  a.body = std::move(body);
  return a;
}

http::Headers live_playlist_headers(int64_t max_age_s) {
  http::Headers h;
  add_cors(h);
  h.set("Content-Type", "application/vnd.apple.mpegurl");
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age_s));
  return h;
}

LiveAnswer LiveServing::answer(const http::Request& req, std::string_view rest) const {
  auto parts = split(rest, '/');
  if (parts.size() == 2 && parts[1] == "master.m3u8") return master(req, parts[0], "index.m3u8");
  // A channel with TS and fMP4 on: the fMP4 renditions' master.
  if (parts.size() == 2 && parts[1] == "master-fmp4.m3u8")
    return master(req, parts[0], "index-fmp4.m3u8");
  if (parts.size() == 2 && parts[1] == "manifest.mpd") return dash_manifest(req, channels_.channel(parts[0]));
  if (parts.size() == 1 && parts[0] == "time") return time_answer();
  if (parts.size() != 3) return error(404, "not-found");
  const LiveRendition* r = channels_.find(parts[0], parts[1]);
  if (!r) return error(404, "not-found");
  std::string_view file = parts[2];
  const LiveFormats formats = r->snapshot()->formats;
  const bool cmaf_index = formats.fmp4 && (file == "index-fmp4.m3u8" || (file == "index.m3u8" && !formats.ts));
  if (cmaf_index || (formats.fmp4 && (file.ends_with(".m4s") || file.ends_with(".mp4")))) {
    CmafRequest c{req, *r, channels_.channel(parts[0]), segment_max_age_s()};
    return cmaf_index ? cmaf_playlist(c, std::string(file)) : cmaf_file(c, file);
  }
  // The TS playlists list .ts segments: without ts they are not served (index.m3u8 is fMP4 then).
  if (formats.ts && (file == "index.m3u8" || file == "event.m3u8"))
    return media_playlist(req, *r, file == "index.m3u8");
  if (file.size() > 3 && file.substr(file.size() - 3) == ".ts" && formats.ts)
    return segment(req, *r, file);
  return error(404, "not-found");
}

LiveAnswer LiveServing::media_playlist(const http::Request& req, const LiveRendition& r,
                                       bool live) const {
  auto snap = r.snapshot();
  if (snap->segments == 0) return error(404, "no-segments-yet");
  // RFC 8216 §6.2.2 wants clients to reload about once per target duration; half of it keeps
  // edges within one segment of the origin.
  int64_t max_age = std::max<int64_t>(1, snap->target_duration / 2);
  if (r.vod()) max_age = origin_.playlist_max_age_ms / 1000;
  http::Headers h = playlist_headers(max_age);
  if (snap->ended) h.set("X-Live-State", "ended");
  return representation(req, std::move(h), live ? snap->live_etag : snap->event_etag,
                        snap->modified_s, live ? snap->live_text : snap->event_text);
}

LiveAnswer LiveServing::segment(const http::Request& req, const LiveRendition& r,
                                std::string_view file) const {
  auto seq = parse_int(file.substr(0, file.size() - 3));
  auto snap = r.snapshot();
  if (!seq || *seq < 0 || file[0] == '+' || file[0] == '-' || uint64_t(*seq) >= snap->next_sequence)
    return error(404, "not-found");
  if (auto it = snap->recent.find(uint64_t(*seq)); it != snap->recent.end())
    return segment_answer(req, it->first, it->second->data, it->second->completed_ms,
                          segment_max_age_s());
  LiveAnswer a;
  a.store_read = LiveAnswer::StoreRead{&r, uint64_t(*seq)};
  return a;
}

LiveAnswer LiveServing::master(const http::Request& req, std::string_view channel,
                               const char* media_playlist) const {
  const auto& renditions = channels_.channel(channel);
  if (renditions.empty()) return error(404, "not-found");
  std::vector<live::RenditionSummary> summaries;
  int target = 0;
  bool vod = false;
  for (const LiveRendition* r : renditions) {
    auto snap = r->snapshot();
    live::RenditionSummary s;
    if (std::string_view(media_playlist) != "index.m3u8" && !snap->formats.fmp4) continue;
    s.uri = r->name() + "/" + media_playlist;
    s.peak_bandwidth = snap->peak_bandwidth;
    s.average_bandwidth = snap->average_bandwidth;
    s.media = snap->media;
    summaries.push_back(std::move(s));
    target = std::max(target, snap->target_duration);
    vod = vod || r->vod();
  }
  hls::MasterPlaylist m = live::build_master(summaries);
  if (m.variants.empty()) return error(404, "no-segments-yet");
  Bytes body = make_bytes(hls::write(m));
  const int64_t max_age = vod ? origin_.playlist_max_age_ms / 1000 : std::max(1, target / 2);
  return representation(req, playlist_headers(max_age), quoted_hash(*body), unix_now(), body);
}

void LiveServing::serve(const std::shared_ptr<http::Exchange>& ex, std::string_view rest) const {
  if (!allow_read_methods(ex)) return;
  LiveAnswer a = answer(ex->request(), rest);
  // Every playlist and segment of a channel carries its surrogate key, so one purge by key
  // (`channel/<name>`) clears the channel on every tier.
  std::string key = "channel/" + std::string(rest.substr(0, rest.find('/')));
  if (a.hold) return serve_held(ex, std::move(a), std::string(rest), std::move(key));
  if (!a.store_read) {
    if (!a.error) a.headers.set("Surrogate-Key", key);
    return respond_live(ex, std::move(a));
  }
  const LiveRendition& r = *a.store_read->rendition;
  const uint64_t seq = a.store_read->sequence;
  // The callback needs nothing of this service: it may run on a worker's teardown.
  const int64_t max_age = segment_max_age_s();
  bool queued = storage_->read_segment(
      ex->worker()->loop(), r.channel(), r.name(), seq,
      [ex, seq, max_age, key](std::optional<StoredSegment> s) {
        if (!ex->alive()) return;
        if (!s) return reject_live(ex, 404, "not-found");
        LiveAnswer a = segment_answer(ex->request(), seq, make_bytes(std::move(s->data)),
                                      s->completed_ms, max_age);
        if (!a.error) a.headers.set("Surrogate-Key", key);
        respond_live(ex, std::move(a));
      });
  if (!queued) reject_live(ex, 503, "busy");
}

}  // namespace cdn::origin
