#pragma once
// The live origin, wired from its units: storage (LiveStorage over the RocksDB SegmentStore),
// per-rendition ingest state and segmenting (LiveRendition, looked up in LiveChannels), ingest
// inputs (LiveIngest: HTTP push and UDP) and serving under /live/ (LiveServing).
//
// Threads: ingest bodies arrive on whichever worker loop accepted the connection; UDP and the
// housekeeping timer run on worker 0. No lock spans renditions: ingest takes its rendition's own
// lock, serving takes none of them (it loads the snapshot each rendition publishes). Segment and
// state writes go to the store's writer thread; segment reads of older sequences run on libuv's
// pool.
#include <functional>
#include <memory>

#include "common/config/server_config.h"
#include "common/http/exchange.h"
#include "common/util/result.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_ingest.h"
#include "origin-shield/origin/live_serving.h"
#include "origin-shield/origin/live_storage.h"

typedef struct uv_timer_s uv_timer_t;

namespace cdn::net {
class Worker;
}

namespace cdn::origin {

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
  // After the worker threads stopped: closes handles and flushes the store.
  void shutdown();

  // True if the request was for /ingest/ or /live/ (and has been answered or is in progress).
  bool handle(const std::shared_ptr<http::Exchange>& ex);
  // Channels that take ingest (for /healthz).
  size_t live_channel_count() const { return cfg_.channels.size(); }

 private:
  LiveService(const LiveConfig& cfg, const config::OriginConfig& origin,
              std::shared_ptr<LiveStorage> storage);
  void tick();

  const LiveConfig cfg_;
  std::shared_ptr<LiveStorage> storage_;
  LiveChannels channels_;
  LiveIngest ingest_;
  LiveServing serving_;
  std::function<bool()> draining_;
  uv_timer_t* timer_ = nullptr;
};

}  // namespace cdn::origin
