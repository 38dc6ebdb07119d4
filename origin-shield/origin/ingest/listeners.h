#pragma once
// The SRT and RTMP ingest listeners that live.srt / live.rtmp configure and the renditions' SRT
// pulls, started and stopped together by LiveIngest.
#include <memory>

#include "common/util/result.h"
#include "origin-shield/origin/ingest/ingest_config.h"

namespace cdn::net {
class Worker;
}

namespace cdn::origin {
class LiveChannels;
class LiveIngest;
struct LiveConfig;
}  // namespace cdn::origin

namespace cdn::origin::ingest {

class SrtListener;
class RtmpServer;
class SrtPuller;

class Listeners {
 public:
  Listeners(const LiveConfig& cfg, LiveChannels& channels, LiveIngest& ingest);
  ~Listeners();
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  // RTMP runs on `w`'s loop (bound before its thread runs); SRT on a thread of its own.
  Result<void> start(net::Worker& w);
  // After the worker threads stopped.
  void stop();

 private:
  const LiveConfig& cfg_;
  LiveChannels& channels_;
  LiveIngest& ingest_;
  std::unique_ptr<SrtListener> srt_;
  std::unique_ptr<RtmpServer> rtmp_;
  std::unique_ptr<SrtPuller> pull_;
};

}  // namespace cdn::origin::ingest
