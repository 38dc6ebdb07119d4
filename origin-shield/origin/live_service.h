#pragma once
// The live origin: ingest (HTTP push and UDP) into each rendition's keyframe segmenter, the
// playlists and the RocksDB segment store, and serving under /live/.
//
// Threads: ingest bodies arrive on whichever worker loop accepted the connection, UDP and the
// housekeeping timer run on worker 0; all rendition state is behind one mutex (a segmenter
// handles hundreds of MB/s, so contention is not a concern at ingest rates). Segment and state
// writes go to the store's writer thread; segment reads of older sequences run on libuv's pool.
// Recent segments are also kept in memory, so a segment is servable the moment its playlist
// lists it, before the disk write completes.
//
// Inputs per rendition: any number of HTTP pushes plus the configured UDP sockets. One input is
// active; the others' bytes are dropped until the active one has been silent for input_gap
// (a primary push that reconnects after its connection closed takes over at once: encoder
// restart). Every takeover starts a new segmenter whose first segment carries
// EXT-X-DISCONTINUITY; the media sequence continues. When every input is silent for input_gap
// the playlist gets EXT-X-ENDLIST.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config/server_config.h"
#include "common/http/server_connection.h"
#include "common/util/result.h"
#include "origin-shield/origin/live/live_playlist.h"
#include "origin-shield/origin/live/segmenter.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/segment_store.h"

typedef struct uv_udp_s uv_udp_t;
typedef struct uv_timer_s uv_timer_t;

namespace cdn::net {
class Worker;
}

namespace cdn::origin {

// Rendition metadata kept beside the playlist state (codec facts for the master after restart).
struct RenditionMeta {
  bool vod = false;  // packaged from a file, no ingest
  live::MediaInfo media;
  std::string encode() const;
  static RenditionMeta decode(std::string_view s);
};

// Playlist shape for packaged VOD: every segment in one playlist.
live::LivePlaylistConfig vod_playlist_config(double target_duration_s);

class LiveService {
 public:
  // Opens the store and restores every rendition it holds (configured or packaged).
  static Result<std::unique_ptr<LiveService>> create(const LiveConfig& cfg,
                                                     const config::OriginConfig& origin);
  ~LiveService();

  // Binds the UDP inputs and starts housekeeping on `w` (before its thread runs).
  Result<void> start(net::Worker& w);
  // Polled by the housekeeping timer: once true, open ingest pushes are answered 503 and closed
  // (an encoder's endless body would otherwise hold the drain until its deadline).
  void set_draining_probe(std::function<bool()> probe) { draining_ = std::move(probe); }
  // After the worker threads stopped: closes handles, ends segmenters, flushes the store.
  void shutdown();

  // True if the request was for /ingest/ or /live/ (and has been answered or is in progress).
  bool handle(const std::shared_ptr<http::Exchange>& ex);

  struct Source;
  struct Rendition;

 private:
  LiveService(const LiveConfig& cfg, const config::OriginConfig& origin);
  Rendition* find(std::string_view channel, std::string_view rendition);
  Rendition& add_rendition(const std::string& channel, const std::string& name, bool vod);
  void restore();

  void handle_ingest(const std::shared_ptr<http::Exchange>& ex, std::string_view rest);
  void handle_live(const std::shared_ptr<http::Exchange>& ex, std::string_view rest);
  void serve_master(const std::shared_ptr<http::Exchange>& ex, const std::string& channel);

  // With mu_ held:
  void on_data(Rendition& r, Source& src, const char* data, size_t n);
  void on_source_end(Rendition& r, Source& src);
  void take_over(Rendition& r, Source& src);
  void on_segment(Rendition& r, live::Segment&& seg);
  void refresh(Rendition& r);
  void end_stream(Rendition& r);
  void tick();

  LiveConfig cfg_;
  const config::OriginConfig& origin_;
  std::shared_ptr<SegmentStore> store_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Rendition>> renditions_;
  uint64_t next_source_id_ = 1;
  std::vector<std::shared_ptr<Source>> pushes_;  // open HTTP ingest inputs
  std::function<bool()> draining_;
  bool drain_done_ = false;
  std::vector<uv_udp_t*> udp_;
  uv_timer_t* timer_ = nullptr;
};

}  // namespace cdn::origin
