#include "origin-shield/origin/ingest/listeners.h"

#include "common/net/worker.h"
#include "origin-shield/origin/ingest/rtmp_server.h"
#include "origin-shield/origin/ingest/srt_listener.h"
#include "origin-shield/origin/ingest/srt_puller.h"
#include "origin-shield/origin/live_channels.h"

namespace cdn::origin::ingest {

Listeners::Listeners(const LiveConfig& cfg, LiveChannels& channels, LiveIngest& ingest)
    : cfg_(cfg), channels_(channels), ingest_(ingest) {}

Listeners::~Listeners() {
  stop();
}

Result<void> Listeners::start(net::Worker& w) {
  if (cfg_.ingest.rtmp.listen) {
    rtmp_ = std::make_unique<RtmpServer>(cfg_.ingest.rtmp, ingest_);
    if (auto r = rtmp_->start(w); !r) return r;
  }
  if (cfg_.ingest.srt.listen) {
    srt_ = std::make_unique<SrtListener>(cfg_.ingest.srt, ingest_);
    if (auto r = srt_->start(); !r) return r;
  }
  std::vector<SrtPuller::Pull> pulls;
  for (auto& ch : cfg_.channels)
    for (auto& rc : ch.renditions)
      for (bool backup : {false, true})
        if (auto& url = backup ? rc.ingest.srt_pull_backup : rc.ingest.srt_pull) {
          SrtPuller::Pull p;
          p.in = {channels_.find(ch.name, rc.name), ingest_.new_source(backup, "srt-pull")};
          p.url = *url;
          pulls.push_back(std::move(p));
        }
  if (!pulls.empty()) {
    pull_ = std::make_unique<SrtPuller>(std::move(pulls), ingest_);
    if (auto r = pull_->start(); !r) return r;
  }
  return {};
}

void Listeners::stop() {
  if (srt_) srt_->stop();
  if (rtmp_) rtmp_->stop();
  if (pull_) pull_->stop();
}

}  // namespace cdn::origin::ingest
