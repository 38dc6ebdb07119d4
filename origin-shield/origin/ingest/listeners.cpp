#include "origin-shield/origin/ingest/listeners.h"

#include "common/net/worker.h"
#include "origin-shield/origin/ingest/rtmp_server.h"
#include "origin-shield/origin/ingest/srt_listener.h"

namespace cdn::origin::ingest {

Listeners::Listeners(const IngestConfig& cfg, LiveIngest& ingest) : cfg_(cfg), ingest_(ingest) {}

Listeners::~Listeners() {
  stop();
}

Result<void> Listeners::start(net::Worker& w) {
  if (cfg_.rtmp.listen) {
    rtmp_ = std::make_unique<RtmpServer>(cfg_.rtmp, ingest_);
    if (auto r = rtmp_->start(w.loop()); !r) return r;
  }
  if (cfg_.srt.listen) {
    srt_ = std::make_unique<SrtListener>(cfg_.srt, ingest_);
    if (auto r = srt_->start(); !r) return r;
  }
  return {};
}

void Listeners::stop() {
  if (srt_) srt_->stop();
  if (rtmp_) rtmp_->stop();
}

}  // namespace cdn::origin::ingest
