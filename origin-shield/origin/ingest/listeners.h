#pragma once
// The SRT and RTMP ingest listeners that live.srt / live.rtmp configure and the renditions' SRT
// pulls, started and stopped together by LiveIngest. The pulls follow the channel table.
#include <memory>
#include <mutex>
#include <vector>

#include "common/util/result.h"
#include "origin-shield/origin/ingest/ingest_config.h"
#include "origin-shield/origin/ingest/srt_puller.h"

namespace cdn::net {
class Worker;
}

namespace cdn::origin {
class LiveChannels;
class LiveIngest;
struct LiveConfig;
struct ChannelTable;
}  // namespace cdn::origin

namespace cdn::origin::ingest {

class SrtListener;
class RtmpServer;

class Listeners {
 public:
  Listeners(const LiveConfig& cfg, LiveChannels& channels, LiveIngest& ingest);
  ~Listeners();
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  // RTMP runs on `w`'s loop (bound before its thread runs); SRT on a thread of its own.
  Result<void> start(net::Worker& w);
  // Any thread, after the channel table changed: starts the pulls of channels and renditions `t`
  // adds and stops those it removes.
  void follow(const ChannelTable& t);
  // After the worker threads stopped.
  void stop();

 private:
  std::vector<SrtPuller::Pull> pulls_of(const ChannelTable& t);

  const LiveConfig& cfg_;
  LiveChannels& channels_;
  LiveIngest& ingest_;
  std::unique_ptr<SrtListener> srt_;
  std::unique_ptr<RtmpServer> rtmp_;
  std::mutex pull_mu_;  // follow() against stop()
  bool stopped_ = false;
  std::unique_ptr<SrtPuller> pull_;
};

}  // namespace cdn::origin::ingest
