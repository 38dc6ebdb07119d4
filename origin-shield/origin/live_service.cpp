#include "origin-shield/origin/live_service.h"

#include <uv.h>

#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/util/clock.h"
#include "common/util/strings.h"
#include "origin-shield/origin/live_admin.h"

namespace cdn::origin {

namespace {
constexpr int64_t kTickMs = 200;
}

Result<std::unique_ptr<LiveService>> LiveService::create(const LiveConfig& cfg,
                                                         const config::OriginConfig& origin) {
  auto storage = LiveStorage::open(cfg.store_path);
  if (!storage) return storage.error();
  ChannelOverlay overlay = load_overlay(*storage.value(), cfg.channels);
  LiveConfig effective = cfg;
  effective.channels = overlay.effective(cfg.channels);
  for (size_t i = 0; i < effective.channels.size(); ++i) {
    std::vector<LiveChannelConfig> others(effective.channels.begin(),
                                          effective.channels.begin() + ptrdiff_t(i));
    if (auto problem = channel_problem(effective.channels[i], others)) {
      // Not persisted: fixing the file and restarting brings the API's channels back.
      obs::log(obs::Level::Error,
               "channels added through the admin API clash with the config file; using the file's",
               {{"channel", effective.channels[i].name}, {"problem", *problem}});
      overlay = ChannelOverlay();
      effective.channels = cfg.channels;
      break;
    }
  }
  return std::unique_ptr<LiveService>(
      new LiveService(cfg, effective, std::move(overlay), origin, std::move(storage.value())));
}

LiveService::LiveService(const LiveConfig& file_cfg, const LiveConfig& cfg, ChannelOverlay overlay,
                         const config::OriginConfig& origin, std::shared_ptr<LiveStorage> storage)
    : cfg_(cfg),
      storage_(std::move(storage)),
      channels_(cfg_, storage_),
      ingest_(cfg_, channels_),
      serving_(channels_, storage_, origin),
      control_(file_cfg, std::move(overlay), storage_, channels_, ingest_),
      packager_(storage_, channels_, double(cfg.target_duration_ms) / 1000) {}

LiveService::~LiveService() {
  shutdown();
}

Result<void> LiveService::start(net::Worker& w) {
  if (auto r = ingest_.bind_udp(w); !r) return r;
  if (auto r = ingest_.start_listeners(w); !r) return r;
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

void LiveService::add_admin_routes(runtime::AdminApi& admin) {
  add_live_admin_routes(admin, *this);
}

void LiveService::reload_config(const std::string& config_path) {
  auto fresh = std::make_shared<LiveConfig>();
  auto cfg = config::load_server_config(
      config_path, [&](config::MapReader& root) { read_live_section(root, *fresh); });
  if (!cfg) {
    obs::log(obs::Level::Error, "live: reload refused, keeping the running channels",
             {{"error", cfg.error().message}});
    obs::metrics()
        .counter("cdn_live_config_reloads_total", "live: sections re-read on SIGHUP, by result",
                 {{"result", "error"}})
        .inc();
    return;
  }
  run_job([this, fresh] { (void)control_.reload(*fresh); });
}

void LiveService::shutdown() {
  jobs_.wait_idle();
  packager_.stop();
  // The worker loops no longer run: closing here is safe, the workers' teardown runs the callbacks.
  ingest_.close();
  if (timer_) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* hh) { delete reinterpret_cast<uv_timer_t*>(hh); });
    timer_ = nullptr;
  }
  storage_->flush();
}

void LiveService::tick() {
  ingest_.housekeep(draining_ && draining_());
  const int64_t now = mono_ms();
  const int64_t wall = unix_now_ms();
  auto table = channels_.table();  // held: a range-for would not keep a temporary alive
  for (LiveRendition* r : table->all) r->housekeep(now, wall);
}

size_t LiveService::live_channel_count() const {
  auto table = channels_.table();
  size_t n = 0;
  for (const auto& [name, view] : table->channels) n += view.ingest ? 1 : 0;
  return n;
}

bool LiveService::handle(const std::shared_ptr<http::Exchange>& ex) {
  std::string_view path = ex->request().path;
  if (starts_with(path, "/ingest/")) {
    ingest_.handle(ex, path.substr(8));
    return true;
  }
  if (!starts_with(path, "/live/")) return false;
  serving_.serve(ex, path.substr(6));
  return true;
}

}  // namespace cdn::origin
