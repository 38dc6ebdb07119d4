#pragma once
// Live ingest: HTTP pushes (PUT/POST /ingest/<channel>/<rendition>, stream key, primary/backup
// role) and UDP inputs, each delivering MPEG-TS into its rendition (which takes only its own lock).
// The SRT and RTMP listeners (ingest/) are started from here and admit their publishers through
// admit(), the one place stream keys are checked.
// The list of open pushes, which draining answers 503, has a lock of its own that no request or
// datagram path takes.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/exchange.h"
#include "common/util/result.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_config.h"

typedef struct uv_udp_s uv_udp_t;

namespace cdn::net {
class Worker;
}

namespace cdn::origin {

namespace ingest {
class Listeners;
}

// A publisher let in: the rendition it feeds and its input there.
struct IngestAdmission {
  LiveRendition* rendition = nullptr;
  std::shared_ptr<LiveSource> source;
};

class LiveIngest {
 public:
  LiveIngest(const LiveConfig& cfg, LiveChannels& channels);
  ~LiveIngest();
  LiveIngest(const LiveIngest&) = delete;
  LiveIngest& operator=(const LiveIngest&) = delete;

  // `rest`: the path after /ingest/.
  void handle(const std::shared_ptr<http::Exchange>& ex, std::string_view rest);
  // Binds every configured UDP input on `w`'s loop (before its thread runs).
  Result<void> bind_udp(net::Worker& w);
  // Starts the SRT and RTMP listeners configured in live.srt / live.rtmp (RTMP on `w`'s loop)
  // and the renditions' SRT pulls.
  Result<void> start_listeners(net::Worker& w);
  // Any thread. Checks the channel, the key and the rendition; the error's message is the reason
  // ("unknown-channel", "bad-stream-key", "unknown-rendition"), not yet counted.
  Result<IngestAdmission> admit(std::string_view channel, std::string_view rendition,
                                std::string_view key, bool backup, const char* kind,
                                const std::string& client);
  // A new input for a rendition (each connection of a pulled input is one, like a reconnecting
  // encoder's).
  std::shared_ptr<LiveSource> new_source(bool backup, const char* kind);
  // Forgets pushes whose connection closed; with `draining`, answers the open ones 503 (once).
  void housekeep(bool draining);
  // After the worker threads stopped: closes the UDP handles and the SRT/RTMP listeners.
  void close();

 private:
  struct Push {
    std::shared_ptr<LiveSource> source;
    std::weak_ptr<http::Exchange> ex;
    net::Worker* worker;
  };
  const LiveConfig& cfg_;
  LiveChannels& channels_;
  std::atomic<uint64_t> next_source_id_{1};
  std::mutex pushes_mu_;
  std::vector<Push> pushes_;
  bool drain_done_ = false;  // housekeeping's thread only
  std::vector<uv_udp_t*> udp_;
  std::unique_ptr<ingest::Listeners> listeners_;
};

}  // namespace cdn::origin
