#include "origin-shield/origin/ingest/listeners.h"

#include "origin-shield/origin/ingest/srt_listener.h"

namespace cdn::origin::ingest {

Listeners::Listeners(const IngestConfig& cfg, LiveIngest& ingest) : cfg_(cfg), ingest_(ingest) {}

Listeners::~Listeners() {
  stop();
}

Result<void> Listeners::start(net::Worker&) {
  if (cfg_.srt.listen) {
    srt_ = std::make_unique<SrtListener>(cfg_.srt, ingest_);
    if (auto r = srt_->start(); !r) return r;
  }
  return {};
}

void Listeners::stop() {
  if (srt_) srt_->stop();
}

}  // namespace cdn::origin::ingest
