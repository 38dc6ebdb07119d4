#include "origin-shield/origin/live_service.h"

#include <openssl/crypto.h>
#include <uv.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <sstream>

#include "common/hls/writer.h"
#include "common/http/conditional.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/util/clock.h"
#include "common/util/http_date.h"
#include "common/util/strings.h"
#include "origin-shield/origin/live/master_builder.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

struct LiveService::Source {
  uint64_t id = 0;
  bool backup = false;
  bool open = true;
  std::string kind;  // "http" or "udp"
  std::weak_ptr<http::Exchange> ex;  // HTTP pushes
  net::Worker* worker = nullptr;
};

struct MemSegment {
  std::string data;
  int64_t completed_ms = 0;
};

struct LiveService::Rendition {
  std::string channel, name;
  bool configured = false;
  bool vod = false;
  std::optional<live::LivePlaylist> playlist;
  RenditionMeta meta;
  std::string meta_encoded;
  std::unique_ptr<live::Segmenter> seg;
  uint64_t active = 0;          // source id, 0 = none
  bool active_open = false;     // the active source's connection is still open
  int64_t active_last_ms = 0;   // mono time of the active source's last bytes
  int64_t any_last_ms = 0;      // mono time of any source's last bytes
  bool live = false;            // segments arrived since the stream last ended
  std::string live_text, event_text, live_etag, event_etag;
  int64_t modified_s = 0;
  std::map<uint64_t, std::shared_ptr<const MemSegment>> recent;
};

namespace {

constexpr int64_t kTickMs = 200;
constexpr size_t kMemorySlack = 4;  // segments kept in memory beyond the live window

obs::Counter& counter(const char* name, const char* help, obs::Labels labels) {
  return obs::metrics().counter(name, help, labels);
}

void reject(const std::shared_ptr<http::Exchange>& ex, int status, const char* reason) {
  http::Headers h;
  add_cors(h);
  ex->log.reason = reason;
  counter("cdn_live_errors_total", "Live ingest and serving errors by reason", {{"reason", reason}}).inc();
  ex->respond_error(status, reason, std::move(h));
}

std::string quoted_hash(std::string_view s) {
  char buf[32];
  snprintf(buf, sizeof buf, "\"%016zx\"", std::hash<std::string_view>{}(s));
  return buf;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  for (auto part : split(query, '&')) {
    auto eq = part.find('=');
    if (part.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return url_decode(part.substr(eq + 1));
  }
  return std::nullopt;
}

bool equal_secret(std::string_view a, std::string_view b) {
  // Constant time in the key's content (OpenSSL's compare); the length is not a secret worth it.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// 304 when the request's validators match; otherwise false.
bool not_modified(const std::shared_ptr<http::Exchange>& ex, http::Headers& h, const std::string& etag,
                  int64_t modified_s) {
  if (!http::not_modified(ex->request(), etag, modified_s)) return false;
  ex->respond(304, std::move(h), std::string_view());
  return true;
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  for (auto l : split(s, '\n')) out.emplace_back(l);
  return out;
}

}  // namespace

std::string RenditionMeta::encode() const {
  std::ostringstream o;
  o << "cdn-live-meta 1\n"
    << (vod ? "vod" : "live") << "\n"
    << media.width << "\n"
    << media.height << "\n"
    << media.frame_ticks << "\n"
    << media.video_codec_string << "\n"
    << media.audio_codec_string << "\n";
  return o.str();
}

RenditionMeta RenditionMeta::decode(std::string_view s) {
  RenditionMeta m;
  auto lines = split_lines(s);
  if (lines.size() < 7 || lines[0] != "cdn-live-meta 1") return m;
  m.vod = lines[1] == "vod";
  m.media.width = int(parse_int(lines[2]).value_or(0));
  m.media.height = int(parse_int(lines[3]).value_or(0));
  m.media.frame_ticks = parse_int(lines[4]).value_or(0);
  m.media.video_codec_string = lines[5];
  m.media.audio_codec_string = lines[6];
  return m;
}

live::LivePlaylistConfig vod_playlist_config(double target_duration_s) {
  live::LivePlaylistConfig pc;
  pc.target_duration_s = target_duration_s;
  pc.window_segments = size_t(1) << 40;  // the whole file is the window
  pc.dvr_window_s = 1e15;
  return pc;
}

Result<std::unique_ptr<LiveService>> LiveService::create(const LiveConfig& cfg,
                                                         const config::OriginConfig& origin) {
  auto store = SegmentStore::open(cfg.store_path);
  if (!store) return store.error();
  std::unique_ptr<LiveService> s(new LiveService(cfg, origin));
  s->store_ = std::move(store.value());
  s->restore();
  return s;
}

LiveService::LiveService(const LiveConfig& cfg, const config::OriginConfig& origin) : cfg_(cfg), origin_(origin) {}

LiveService::~LiveService() { shutdown(); }

LiveService::Rendition& LiveService::add_rendition(const std::string& channel, const std::string& name,
                                                   bool vod) {
  auto r = std::make_unique<Rendition>();
  r->channel = channel;
  r->name = name;
  r->vod = vod;
  r->meta.vod = vod;
  renditions_.push_back(std::move(r));
  return *renditions_.back();
}

void LiveService::restore() {
  const double target_s = double(cfg_.target_duration_ms) / 1000;
  live::LivePlaylistConfig live_pc;
  live_pc.target_duration_s = target_s;
  live_pc.window_segments = cfg_.window_segments;
  live_pc.dvr_window_s = double(cfg_.dvr_window_ms) / 1000;
  for (auto& ch : cfg_.channels)
    for (auto& rc : ch.renditions) add_rendition(ch.name, rc.name, false).configured = true;
  // Renditions in the store but not configured (packaged VOD, or channels removed from config)
  // are served read-only.
  for (auto& [key, value] : store_->scan("m/")) {
    auto parts = split(std::string_view(key).substr(2), '/');
    if (parts.size() != 2) continue;
    RenditionMeta meta = RenditionMeta::decode(value);
    Rendition* r = find(parts[0], parts[1]);
    if (!r) r = &add_rendition(std::string(parts[0]), std::string(parts[1]), true);
    r->meta.media = meta.media;
    if (!r->configured) r->vod = r->meta.vod = true;
    r->meta_encoded = r->meta.encode();
  }
  for (auto& rp : renditions_) {
    Rendition& r = *rp;
    auto pc = r.configured ? live_pc : vod_playlist_config(target_s);
    if (r.configured) pc.uri_prefix = "";
    if (auto state = store_->get(SegmentStore::state_key(r.channel, r.name))) {
      auto pl = live::LivePlaylist::deserialize(*state, pc);
      if (pl) {
        r.playlist.emplace(std::move(pl.value()));
        // A live stream interrupted by the restart ends unless its encoder is back within input_gap.
        r.live = r.configured && !r.playlist->ended() && r.playlist->size() > 0;
        r.any_last_ms = mono_ms();
        obs::log(obs::Level::Info, "live rendition restored",
                 {{"channel", r.channel}, {"rendition", r.name},
                  {"next_sequence", std::to_string(r.playlist->next_sequence())}});
      } else {
        obs::log(obs::Level::Error, "live playlist state unreadable, starting over",
                 {{"channel", r.channel}, {"rendition", r.name}, {"error", pl.error().message}});
      }
    }
    if (!r.playlist) r.playlist.emplace(pc);
    refresh(r);
  }
}

LiveService::Rendition* LiveService::find(std::string_view channel, std::string_view rendition) {
  for (auto& r : renditions_)
    if (r->channel == channel && r->name == rendition) return r.get();
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// UDP and housekeeping

namespace {

struct UdpInput {
  LiveService* service;
  LiveService::Rendition* rendition;
  std::shared_ptr<LiveService::Source> source;
  std::function<void(const char*, size_t)> deliver;
  char buf[65536];
};

}  // namespace

Result<void> LiveService::start(net::Worker& w) {
  for (auto& rp : renditions_) {
    Rendition& r = *rp;
    if (!r.configured) continue;
    const LiveChannelConfig* ch = cfg_.channel(r.channel);
    const LiveRenditionConfig* rc = nullptr;
    for (auto& x : ch->renditions)
      if (x.name == r.name) rc = &x;
    for (int backup = 0; backup < 2; ++backup) {
      const auto& addr = backup ? rc->udp_backup : rc->udp;
      if (!addr) continue;
      struct sockaddr_storage ss {};
      int rc2 = addr->host.find(':') != std::string::npos
                    ? uv_ip6_addr(addr->host.c_str(), addr->port, reinterpret_cast<sockaddr_in6*>(&ss))
                    : uv_ip4_addr(addr->host.c_str(), addr->port, reinterpret_cast<sockaddr_in*>(&ss));
      if (rc2 != 0) return Error{"live udp " + addr->str() + ": " + uv_strerror(rc2)};
      auto* h = new uv_udp_t;
      uv_udp_init(w.loop(), h);
      auto* in = new UdpInput{this, &r, std::make_shared<Source>(), {}, {}};
      in->source->id = next_source_id_++;
      in->source->backup = backup != 0;
      in->source->kind = "udp";
      in->deliver = [this, in](const char* d, size_t n) {
        std::lock_guard lk(mu_);
        on_data(*in->rendition, *in->source, d, n);
      };
      h->data = in;
      int err = uv_udp_bind(h, reinterpret_cast<const sockaddr*>(&ss), UV_UDP_REUSEADDR);
      if (err == 0) {
        int size = 4 << 20;
        uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(h), &size);
        err = uv_udp_recv_start(
            h,
            [](uv_handle_t* hh, size_t, uv_buf_t* buf) {
              auto* u = static_cast<UdpInput*>(hh->data);
              *buf = uv_buf_init(u->buf, sizeof u->buf);
            },
            [](uv_udp_t* hh, ssize_t nread, const uv_buf_t* buf, const sockaddr*, unsigned) {
              auto* u = static_cast<UdpInput*>(hh->data);
              if (u && nread > 0) u->deliver(buf->base, size_t(nread));
            });
      }
      udp_.push_back(h);
      if (err != 0) return Error{"live udp " + addr->str() + ": " + uv_strerror(err)};
      obs::log(obs::Level::Info, "live udp input",
               {{"channel", r.channel}, {"rendition", r.name}, {"address", addr->str()},
                {"role", backup ? "backup" : "primary"}});
    }
  }
  timer_ = new uv_timer_t;
  uv_timer_init(w.loop(), timer_);
  timer_->data = this;
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        if (t->data) static_cast<LiveService*>(t->data)->tick();
      },
      kTickMs, kTickMs);
  return {};
}

void LiveService::shutdown() {
  // The worker loops no longer run: closing here is safe, the workers' teardown runs the callbacks.
  for (auto* h : udp_) {
    auto* in = static_cast<UdpInput*>(h->data);
    delete in;
    h->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* hh) { delete reinterpret_cast<uv_udp_t*>(hh); });
  }
  udp_.clear();
  if (timer_) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* hh) { delete reinterpret_cast<uv_timer_t*>(hh); });
    timer_ = nullptr;
  }
  if (store_) store_->flush();
}

void LiveService::tick() {
  std::lock_guard lk(mu_);
  std::erase_if(pushes_, [](const std::shared_ptr<Source>& s) { return !s->open; });
  if (!drain_done_ && draining_ && draining_()) {
    drain_done_ = true;
    for (auto& s : pushes_)
      s->worker->post([wex = s->ex] {
        if (auto e = wex.lock(); e && !e->started()) reject(e, 503, "draining");
      });
  }
  const int64_t now = mono_ms();
  const int64_t wall = unix_now_ms();
  for (auto& rp : renditions_) {
    Rendition& r = *rp;
    if (r.live && now - r.any_last_ms >= cfg_.input_gap_ms) end_stream(r);
    auto expired = r.playlist->take_expired(wall);
    if (!expired.empty()) {
      for (uint64_t s : expired) r.recent.erase(s);
      counter("cdn_live_segments_expired_total", "Live segments deleted after retention",
              {{"channel", r.channel}, {"rendition", r.name}})
          .inc(expired.size());
      store_->remove_segments(r.channel, r.name, std::move(expired));
      store_->put(SegmentStore::state_key(r.channel, r.name), r.playlist->serialize());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ingest

void LiveService::take_over(Rendition& r, Source& src) {
  if (r.seg) r.seg->flush();
  live::SegmenterConfig sc;
  sc.target_duration_s = double(cfg_.target_duration_ms) / 1000;
  sc.first_sequence = r.playlist->next_sequence();
  sc.first_discontinuity = r.playlist->next_sequence() > 0;
  if (sc.first_discontinuity) r.playlist->mark_discontinuity();
  Rendition* rp = &r;
  r.seg = std::make_unique<live::Segmenter>(sc, [this, rp](live::Segment&& s) { on_segment(*rp, std::move(s)); });
  const bool switched = r.active != 0;
  r.active = src.id;
  r.active_open = src.open;
  obs::log(obs::Level::Info, switched ? "live input takeover" : "live input active",
           {{"channel", r.channel}, {"rendition", r.name}, {"input", src.kind},
            {"role", src.backup ? "backup" : "primary"}});
  counter("cdn_live_input_switches_total", "Times a rendition's active ingest input changed",
          {{"channel", r.channel}, {"rendition", r.name}})
      .inc();
}

void LiveService::on_data(Rendition& r, Source& src, const char* data, size_t n) {
  const int64_t now = mono_ms();
  r.any_last_ms = now;
  counter("cdn_live_ingest_bytes_total", "MPEG-TS bytes received by live ingest",
          {{"channel", r.channel}, {"rendition", r.name}, {"role", src.backup ? "backup" : "primary"}})
      .inc(n);
  if (r.active != src.id) {
    const bool active_silent = now - r.active_last_ms >= cfg_.input_gap_ms;
    const bool can = r.active == 0 || active_silent || (!src.backup && !r.active_open);
    if (!can) {
      counter("cdn_live_ingest_dropped_bytes_total", "Bytes of standby inputs (not the active one)",
              {{"channel", r.channel}, {"rendition", r.name}})
          .inc(n);
      return;
    }
    take_over(r, src);
  }
  r.active_last_ms = now;
  r.seg->feed(std::string_view(data, n));
}

void LiveService::on_source_end(Rendition& r, Source& src) {
  src.open = false;
  if (r.active != src.id) return;
  r.active_open = false;
  if (r.seg) {
    r.seg->flush();  // the segment in progress is complete as far as this input goes
    r.seg.reset();
  }
}

void LiveService::end_stream(Rendition& r) {
  if (r.seg) {
    r.seg->flush();
    r.seg.reset();
  }
  r.active = 0;
  r.active_open = false;
  r.live = false;
  if (r.playlist->size() == 0) return;
  r.playlist->end();
  store_->put(SegmentStore::state_key(r.channel, r.name), r.playlist->serialize());
  refresh(r);
  obs::log(obs::Level::Info, "live stream ended",
           {{"channel", r.channel}, {"rendition", r.name},
            {"next_sequence", std::to_string(r.playlist->next_sequence())}});
}

void LiveService::on_segment(Rendition& r, live::Segment&& s) {
  if (s.data.empty() || s.duration_s <= 0) return;
  const int64_t now = unix_now_ms();
  const uint64_t seq = r.playlist->append(s, now);
  r.live = true;
  if (r.seg) {
    const live::MediaInfo& m = r.seg->media();
    if (m.width || !m.video_codec_string.empty() || !m.audio_codec_string.empty()) r.meta.media = m;
  }
  std::string meta = r.meta.encode();
  const bool meta_changed = meta != r.meta_encoded;
  if (meta_changed) r.meta_encoded = meta;
  auto mem = std::make_shared<MemSegment>();
  mem->data = std::move(s.data);
  mem->completed_ms = now;
  store_->put_segment(r.channel, r.name, seq, now, mem->data, r.playlist->serialize(),
                      meta_changed ? std::move(meta) : std::string());
  r.recent[seq] = std::move(mem);
  const size_t keep = cfg_.window_segments + kMemorySlack;
  while (r.recent.size() > keep) r.recent.erase(r.recent.begin());
  refresh(r);
  counter("cdn_live_segments_total", "Live segments completed",
          {{"channel", r.channel}, {"rendition", r.name}})
      .inc();
  if (s.discontinuity)
    counter("cdn_live_discontinuities_total", "Live segments starting a new timeline",
            {{"channel", r.channel}, {"rendition", r.name}})
        .inc();
  if (!s.starts_with_keyframe)
    counter("cdn_live_forced_cuts_total", "Live segments cut without a keyframe",
            {{"channel", r.channel}, {"rendition", r.name}})
        .inc();
}

void LiveService::refresh(Rendition& r) {
  r.live_text = r.playlist->live_playlist();
  r.event_text = r.playlist->event_playlist();
  r.live_etag = quoted_hash(r.live_text);
  r.event_etag = quoted_hash(r.event_text);
  r.modified_s = unix_now();
}

void LiveService::handle_ingest(const std::shared_ptr<http::Exchange>& ex, std::string_view rest) {
  const auto& req = ex->request();
  auto parts = split(rest, '/');
  if (parts.size() != 2) return reject(ex, 404, "unknown-channel");
  if (req.method != "PUT" && req.method != "POST") return respond_method_not_allowed(ex, "PUT, POST");
  const LiveChannelConfig* ch = cfg_.channel(parts[0]);
  if (!ch) return reject(ex, 404, "unknown-channel");
  std::string key = query_param(req.query, "key").value_or("");
  if (key.empty()) {
    std::string_view auth = req.headers.get_or("authorization");
    if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ")) key = std::string(trim(auth.substr(7)));
  }
  if (!equal_secret(key, ch->stream_key)) {
    obs::log(obs::Level::Warn, "live ingest refused: bad stream key",
             {{"channel", ch->name}, {"client", ex->client_ip()}});
    return reject(ex, 403, "bad-stream-key");
  }
  auto role = query_param(req.query, "role").value_or("primary");
  if (role != "primary" && role != "backup") return reject(ex, 400, "bad-role");
  std::unique_lock lk(mu_);
  Rendition* r = find(parts[0], parts[1]);
  if (!r || !r->configured) {
    lk.unlock();
    return reject(ex, 404, "unknown-rendition");
  }
  auto src = std::make_shared<Source>();
  src->id = next_source_id_++;
  src->backup = role == "backup";
  src->kind = "http";
  src->ex = ex;
  src->worker = ex->worker();
  pushes_.push_back(src);
  lk.unlock();
  obs::log(obs::Level::Info, "live ingest connected",
           {{"channel", r->channel}, {"rendition", r->name}, {"role", role}, {"client", ex->client_ip()}});
  std::weak_ptr<http::Exchange> wex = ex;
  // Closed without the body's end (e.g. answered 503 while draining): the input is gone too.
  ex->on_abort([this, r, src] {
    std::lock_guard g(mu_);
    on_source_end(*r, *src);
  });
  ex->set_body_handler(
      [this, r, src](const char* d, size_t n) {
        std::lock_guard g(mu_);
        on_data(*r, *src, d, n);
      },
      [this, r, src, wex](bool ok) {
        {
          std::lock_guard g(mu_);
          on_source_end(*r, *src);
        }
        obs::log(obs::Level::Info, "live ingest closed",
                 {{"channel", r->channel}, {"rendition", r->name}, {"complete", ok ? "true" : "false"}});
        if (auto e = wex.lock(); e && ok) {
          http::Headers h;
          add_cors(h);
          e->respond(204, std::move(h), std::string_view());
        }
      });
}

// ---------------------------------------------------------------------------------------------
// Serving

bool LiveService::handle(const std::shared_ptr<http::Exchange>& ex) {
  std::string_view path = ex->request().path;
  if (starts_with(path, "/ingest/")) {
    handle_ingest(ex, path.substr(8));
    return true;
  }
  if (!starts_with(path, "/live/")) return false;
  handle_live(ex, path.substr(6));
  return true;
}

namespace {

struct SegmentRead {
  uv_work_t req;
  std::shared_ptr<http::Exchange> ex;
  std::shared_ptr<SegmentStore> store;
  std::string channel, rendition;
  uint64_t seq = 0;
  int64_t max_age_s = 0;
  std::optional<StoredSegment> result;
};

void respond_segment(const std::shared_ptr<http::Exchange>& ex, uint64_t seq, const std::string& data,
                     int64_t completed_ms, int64_t max_age_s) {
  http::Headers h;
  add_cors(h);
  h.set("Content-Type", "video/mp2t");
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age_s) + ", immutable");
  char etag[64];
  snprintf(etag, sizeof etag, "\"%" PRIu64 "-%zx-%" PRIx64 "\"", seq, data.size(), uint64_t(completed_ms));
  h.set("ETag", etag);
  h.set("Last-Modified", format_http_date(completed_ms / 1000));
  if (not_modified(ex, h, etag, completed_ms / 1000)) return;
  ex->respond(200, std::move(h), data);
}

void read_segment(const std::shared_ptr<http::Exchange>& ex, const std::shared_ptr<SegmentStore>& store,
                  std::string channel, std::string rendition, uint64_t seq, int64_t max_age) {
  auto* job = new SegmentRead();
  job->req.data = job;
  job->ex = ex;
  job->store = store;
  job->channel = std::move(channel);
  job->rendition = std::move(rendition);
  job->seq = seq;
  job->max_age_s = max_age;
  int rc = uv_queue_work(
      ex->worker()->loop(), &job->req,
      [](uv_work_t* w) {
        auto* j = static_cast<SegmentRead*>(w->data);
        j->result = j->store->get_segment(j->channel, j->rendition, j->seq);
      },
      [](uv_work_t* w, int) {
        std::unique_ptr<SegmentRead> j(static_cast<SegmentRead*>(w->data));
        if (!j->ex->alive()) return;
        if (!j->result) return reject(j->ex, 404, "not-found");
        respond_segment(j->ex, j->seq, j->result->data, j->result->completed_ms, j->max_age_s);
      });
  if (rc != 0) {
    delete job;
    reject(ex, 503, "busy");
  }
}

}  // namespace

void LiveService::handle_live(const std::shared_ptr<http::Exchange>& ex, std::string_view rest) {
  if (!allow_read_methods(ex)) return;
  auto parts = split(rest, '/');
  if (parts.size() == 2 && parts[1] == "master.m3u8") return serve_master(ex, std::string(parts[0]));
  if (parts.size() != 3) return reject(ex, 404, "not-found");
  std::unique_lock lk(mu_);
  Rendition* r = find(parts[0], parts[1]);
  if (!r) {
    lk.unlock();
    return reject(ex, 404, "not-found");
  }
  std::string_view file = parts[2];
  if (file == "index.m3u8" || file == "event.m3u8") {
    const bool live = file == "index.m3u8";
    if (r->playlist->size() == 0) {
      lk.unlock();
      return reject(ex, 404, "no-segments-yet");
    }
    std::string body = live ? r->live_text : r->event_text;
    std::string etag = live ? r->live_etag : r->event_etag;
    const int64_t modified = r->modified_s;
    const bool ended = r->playlist->ended();
    // RFC 8216 §6.2.2 wants clients to reload about once per target duration; half of it keeps
    // edges within one segment of the origin.
    int64_t max_age = std::max<int64_t>(1, r->playlist->target_duration() / 2);
    if (r->vod) max_age = origin_.playlist_max_age_ms / 1000;
    lk.unlock();
    http::Headers h;
    add_cors(h);
    h.set("Content-Type", "application/vnd.apple.mpegurl");
    h.set("Cache-Control", "public, max-age=" + std::to_string(max_age));
    h.set("ETag", etag);
    h.set("Last-Modified", format_http_date(modified));
    if (ended) h.set("X-Live-State", "ended");
    if (not_modified(ex, h, etag, modified)) return;
    ex->respond(200, std::move(h), body);
    return;
  }
  if (file.size() > 3 && file.substr(file.size() - 3) == ".ts") {
    auto seq = parse_int(file.substr(0, file.size() - 3));
    if (!seq || *seq < 0 || file[0] == '+' || file[0] == '-' ||
        uint64_t(*seq) >= r->playlist->next_sequence()) {
      lk.unlock();
      return reject(ex, 404, "not-found");
    }
    std::shared_ptr<const MemSegment> mem;
    if (auto it = r->recent.find(uint64_t(*seq)); it != r->recent.end()) mem = it->second;
    std::string channel = r->channel, rendition = r->name;
    lk.unlock();
    const int64_t max_age = origin_.segment_max_age_ms / 1000;
    if (mem) return respond_segment(ex, uint64_t(*seq), mem->data, mem->completed_ms, max_age);
    read_segment(ex, store_, std::move(channel), std::move(rendition), uint64_t(*seq), max_age);
    return;
  }
  lk.unlock();
  reject(ex, 404, "not-found");
}

void LiveService::serve_master(const std::shared_ptr<http::Exchange>& ex, const std::string& channel) {
  std::vector<live::RenditionSummary> summaries;
  int target = 0;
  bool vod = false;
  {
    std::lock_guard lk(mu_);
    for (auto& rp : renditions_) {
      if (rp->channel != channel) continue;
      live::RenditionSummary s;
      s.uri = rp->name + "/index.m3u8";
      s.peak_bandwidth = rp->playlist->peak_bandwidth();
      s.average_bandwidth = rp->playlist->average_bandwidth();
      s.media = rp->meta.media;
      summaries.push_back(std::move(s));
      target = std::max(target, rp->playlist->target_duration());
      vod = vod || rp->vod;
    }
  }
  if (summaries.empty()) return reject(ex, 404, "not-found");
  hls::MasterPlaylist m = live::build_master(summaries);
  if (m.variants.empty()) return reject(ex, 404, "no-segments-yet");
  std::string body = hls::write(m);
  http::Headers h;
  add_cors(h);
  h.set("Content-Type", "application/vnd.apple.mpegurl");
  int64_t max_age = vod ? origin_.playlist_max_age_ms / 1000 : std::max(1, target / 2);
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age));
  std::string etag = quoted_hash(body);
  h.set("ETag", etag);
  const int64_t modified = unix_now();
  h.set("Last-Modified", format_http_date(modified));
  if (not_modified(ex, h, etag, modified)) return;
  ex->respond(200, std::move(h), body);
}

}  // namespace cdn::origin
