#pragma once
// The live origin, wired from its units: storage (LiveStorage over the RocksDB SegmentStore),
// per-rendition ingest state and segmenting (LiveRendition, looked up in LiveChannels), ingest
// inputs (LiveIngest: HTTP push and UDP) and serving under /live/ (LiveServing).
//
// Threads: ingest bodies arrive on whichever worker loop accepted the connection; UDP and the
// housekeeping timer run on worker 0. No lock spans renditions: ingest takes its rendition's own
// lock, serving takes none of them (it loads the snapshot each rendition publishes). Segment and
// state writes go to the store's writer thread; segment reads of older sequences run on libuv's
// pool. Channel changes (admin API, SIGHUP) run on a job thread of their own (LiveChannelControl)
// and reach the request paths only as a new channel table, swapped whole.
#include <functional>
#include <memory>

#include "common/cache/thread_pool.h"
#include "common/config/server_config.h"
#include "common/http/exchange.h"
#include "common/util/result.h"
#include "origin-shield/origin/live_channel_control.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_ingest.h"
#include "origin-shield/origin/live_packager.h"
#include "origin-shield/origin/live_serving.h"
#include "origin-shield/origin/live_storage.h"

typedef struct uv_timer_s uv_timer_t;

namespace cdn::net {
class Worker;
}
namespace cdn::runtime {
class AdminApi;
}

namespace cdn::origin {

class LiveService {
 public:
  // Opens the store and restores every rendition it holds (configured or packaged); the channels
  // in effect are the file's with the changes made through the admin API (stored) on top.
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

  // The channel and package admin routes (live_admin.h).
  void add_admin_routes(runtime::AdminApi& admin);
  // SIGHUP: re-reads the config file (validated as at start) and applies its live: section on the
  // job thread; a bad file keeps the running channels (logged, cdn_live_config_reloads_total).
  void reload_config(const std::string& config_path);
  // Runs `fn` on the job thread that serializes channel changes; control() is for it only.
  void run_job(std::function<void()> fn) { jobs_.submit(std::move(fn)); }
  LiveChannelControl& control() { return control_; }
  LivePackager& packager() { return packager_; }

 private:
  LiveService(const LiveConfig& file_cfg, const LiveConfig& cfg, ChannelOverlay overlay,
              const config::OriginConfig& origin, std::shared_ptr<LiveStorage> storage);
  void tick();

  const LiveConfig cfg_;
  std::shared_ptr<LiveStorage> storage_;
  LiveChannels channels_;
  LiveIngest ingest_;
  LiveServing serving_;
  LiveChannelControl control_;
  LivePackager packager_;
  std::function<bool()> draining_;
  uv_timer_t* timer_ = nullptr;
  // Last: its thread finishes queued jobs before anything they use is destroyed.
  cache::ThreadPool jobs_{1};
};

}  // namespace cdn::origin
