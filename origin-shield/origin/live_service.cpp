#include "origin-shield/origin/live_service.h"

#include <uv.h>

#include "common/net/worker.h"
#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::origin {

namespace {
constexpr int64_t kTickMs = 200;
}

Result<std::unique_ptr<LiveService>> LiveService::create(const LiveConfig& cfg,
                                                         const config::OriginConfig& origin) {
  auto storage = LiveStorage::open(cfg.store_path);
  if (!storage) return storage.error();
  return std::unique_ptr<LiveService>(new LiveService(cfg, origin, std::move(storage.value())));
}

LiveService::LiveService(const LiveConfig& cfg, const config::OriginConfig& origin,
                         std::shared_ptr<LiveStorage> storage)
    : cfg_(cfg),
      storage_(std::move(storage)),
      channels_(cfg_, storage_),
      ingest_(cfg_, channels_),
      serving_(channels_, storage_, origin) {}

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

void LiveService::shutdown() {
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
  for (auto& r : channels_.all()) r->housekeep(now, wall);
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
