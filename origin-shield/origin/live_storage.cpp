#include "origin-shield/origin/live_storage.h"

#include <uv.h>

#include <sstream>

#include "common/util/strings.h"
#include "origin-shield/origin/vod_formats.h"

namespace cdn::origin {

std::string RenditionMeta::encode() const {
  std::ostringstream o;
  o << "cdn-live-meta 1\n"
    << (vod ? "vod" : "live") << "\n"
    << media.width << "\n"
    << media.height << "\n"
    << media.frame_ticks << "\n"
    << media.video_codec_string << "\n"
    << media.audio_codec_string << "\n"
    << vod_formats_text(formats) << "\n";
  return o.str();
}

RenditionMeta RenditionMeta::decode(std::string_view s) {
  RenditionMeta m;
  std::vector<std::string> lines;
  for (auto l : split(s, '\n')) lines.emplace_back(l);
  if (lines.size() < 7 || lines[0] != "cdn-live-meta 1") return m;
  m.vod = lines[1] == "vod";
  m.media.width = int(parse_int(lines[2]).value_or(0));
  m.media.height = int(parse_int(lines[3]).value_or(0));
  m.media.frame_ticks = parse_int(lines[4]).value_or(0);
  m.media.video_codec_string = lines[5];
  m.media.audio_codec_string = lines[6];
  // Older records have no formats line: TS only, as everything was then.
  if (lines.size() >= 8)
    if (auto f = parse_vod_formats(lines[7])) m.formats = *f;
  return m;
}

live::LivePlaylistConfig vod_playlist_config(double target_duration_s) {
  live::LivePlaylistConfig pc;
  pc.target_duration_s = target_duration_s;
  pc.window_segments = size_t(1) << 40;  // the whole file is the window
  pc.dvr_window_s = 1e15;
  return pc;
}

Result<std::shared_ptr<LiveStorage>> LiveStorage::open(const std::string& path) {
  auto store = SegmentStore::open(path);
  if (!store) return store.error();
  return std::shared_ptr<LiveStorage>(new LiveStorage(std::move(store.value())));
}

std::vector<LiveStorage::StoredRendition> LiveStorage::stored_renditions() const {
  std::vector<StoredRendition> out;
  for (auto& [key, value] : store_->scan("m/")) {
    auto parts = split(std::string_view(key).substr(2), '/');
    if (parts.size() != 2) continue;
    out.push_back({std::string(parts[0]), std::string(parts[1]), RenditionMeta::decode(value)});
  }
  return out;
}

CmafPersist LiveStorage::cmaf_persist(std::string channel, std::string rendition) {
  CmafPersist p;
  std::shared_ptr<SegmentStore> store = store_;
  p.put = [store, channel, rendition](char kind, std::optional<uint64_t> n, std::string value) {
    store->put(cmaf_key(kind, channel, rendition, n), std::move(value));
  };
  p.remove = [store, channel, rendition](char kind, std::vector<uint64_t> numbers) {
    std::vector<std::string> keys;
    for (uint64_t n : numbers) keys.push_back(cmaf_key(kind, channel, rendition, n));
    store->remove(std::move(keys));
  };
  return p;
}

CmafRestored LiveStorage::load_cmaf(std::string_view channel, std::string_view rendition) const {
  CmafRestored out;
  // A damaged record is left out (a segment without its init is then not served either).
  for (auto& [key, value] : store_->scan(cmaf_key('i', channel, rendition, std::nullopt) + "/"))
    if (auto init = decode_cmaf_init(value)) out.inits[init->id] = std::move(*init);
  const std::string seg_prefix = cmaf_key('s', channel, rendition, std::nullopt) + "/";
  for (auto& [key, value] : store_->scan(seg_prefix)) {
    auto msn = parse_int(std::string_view(key).substr(seg_prefix.size()));
    auto seg = decode_cmaf_segment(value);
    if (msn && *msn >= 0 && seg) out.segments[uint64_t(*msn)] = std::move(*seg);
  }
  if (auto state = store_->get(cmaf_key('p', channel, rendition, std::nullopt)))
    out.state = decode_cmaf_state(*state);
  return out;
}

std::optional<std::string> LiveStorage::playlist_state(std::string_view channel,
                                                       std::string_view rendition) const {
  return store_->get(SegmentStore::state_key(channel, rendition));
}

void LiveStorage::save_segment(std::string_view channel, std::string_view rendition, uint64_t seq,
                               int64_t completed_ms, std::string data, std::string state,
                               std::string meta) {
  store_->put_segment(channel, rendition, seq, completed_ms, std::move(data), std::move(state),
                      std::move(meta));
}

void LiveStorage::save_state(std::string_view channel, std::string_view rendition,
                             std::string state) {
  store_->put(SegmentStore::state_key(channel, rendition), std::move(state));
}

void LiveStorage::remove_segments(std::string_view channel, std::string_view rendition,
                                  std::vector<uint64_t> seqs) {
  store_->remove_segments(channel, rendition, std::move(seqs));
}

void LiveStorage::flush() {
  store_->flush();
}

namespace {
// Outside the s/, p/ and m/ rendition key spaces.
constexpr const char* kOverlayKey = "c/overlay";
}  // namespace

std::optional<std::string> LiveStorage::channel_overlay() const {
  return store_->get(kOverlayKey);
}

void LiveStorage::save_channel_overlay(std::string json) {
  store_->put(kOverlayKey, std::move(json));
}

namespace {

struct SegmentRead {
  uv_work_t req;
  std::shared_ptr<SegmentStore> store;
  std::string channel, rendition;
  uint64_t seq = 0;
  LiveStorage::ReadDone done;
  std::optional<StoredSegment> result;
};

}  // namespace

bool LiveStorage::read_segment(uv_loop_t* loop, std::string channel, std::string rendition,
                               uint64_t seq, ReadDone done) {
  auto* job = new SegmentRead();
  job->req.data = job;
  job->store = store_;
  job->channel = std::move(channel);
  job->rendition = std::move(rendition);
  job->seq = seq;
  job->done = std::move(done);
  int rc = uv_queue_work(
      loop, &job->req,
      [](uv_work_t* w) {
        auto* j = static_cast<SegmentRead*>(w->data);
        j->result = j->store->get_segment(j->channel, j->rendition, j->seq);
      },
      [](uv_work_t* w, int) {
        std::unique_ptr<SegmentRead> j(static_cast<SegmentRead*>(w->data));
        j->done(std::move(j->result));
      });
  if (rc != 0) delete job;
  return rc == 0;
}

}  // namespace cdn::origin
