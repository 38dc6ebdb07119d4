#include "origin-shield/origin/ingest/listeners.h"

#include "common/net/worker.h"
#include "common/obs/log.h"
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
  if (cfg_.ingest.rtmp.listen || cfg_.ingest.rtmp.tls_listen) {
    rtmp_ = std::make_unique<RtmpServer>(cfg_.ingest.rtmp, ingest_);
    if (auto r = rtmp_->start(w); !r) return r;
  }
  if (cfg_.ingest.srt.listen) {
    srt_ = std::make_unique<SrtListener>(cfg_.ingest.srt, ingest_);
    if (auto r = srt_->start(); !r) return r;
  }
  std::lock_guard lk(pull_mu_);
  auto pulls = pulls_of(*channels_.table());
  if (pulls.empty()) return {};  // started by follow() once a channel has one
  pull_ = std::make_unique<SrtPuller>(std::move(pulls), ingest_);
  return pull_->start();
}

std::vector<SrtPuller::Pull> Listeners::pulls_of(const ChannelTable& t) {
  std::vector<SrtPuller::Pull> pulls;
  for (auto& [name, view] : t.channels) {
    if (!view.ingest) continue;
    for (size_t i = 0; i < view.ingest->renditions.size() && i < view.master.size(); ++i)
      for (bool backup : {false, true}) {
        const auto& rc = view.ingest->renditions[i].ingest;
        if (auto& url = backup ? rc.srt_pull_backup : rc.srt_pull) {
          SrtPuller::Pull p;
          p.in = {view.master[i], ingest_.new_source(backup, "srt-pull")};
          p.url = *url;
          pulls.push_back(std::move(p));
        }
      }
  }
  return pulls;
}

void Listeners::follow(const ChannelTable& t) {
  std::lock_guard lk(pull_mu_);
  if (stopped_) return;
  auto pulls = pulls_of(t);
  if (pull_) return pull_->follow(std::move(pulls));
  if (pulls.empty()) return;
  pull_ = std::make_unique<SrtPuller>(std::move(pulls), ingest_);
  if (auto r = pull_->start(); !r)
    obs::log(obs::Level::Error, "live srt pull failed to start", {{"error", r.error().message}});
}

void Listeners::stop() {
  if (srt_) srt_->stop();
  if (rtmp_) rtmp_->stop();
  std::lock_guard lk(pull_mu_);
  stopped_ = true;
  if (pull_) pull_->stop();
}

}  // namespace cdn::origin::ingest
