#pragma once
// Live ingest: HTTP pushes (PUT/POST /ingest/<channel>/<rendition>, stream key, primary/backup
// role) and UDP inputs, each delivering MPEG-TS into its rendition (which takes only its own lock).
// The list of open pushes, which draining answers 503, has a lock of its own that no datagram path
// takes. Stream keys and renditions are checked against the channel table in effect, for every
// kind of push: HTTP here, SRT and RTMP publishers of the listeners in ingest/ (started from
// here). After a change of the table, reconcile() cuts the pushes it no longer admits (key
// rotated, channel or rendition removed) and binds or closes UDP inputs, touching nothing else.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/exchange.h"
#include "common/util/result.h"
#include "origin-shield/origin/ingest/stream_target.h"
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

  // For every kind of push input (HTTP here; SRT, RTMP): the rendition a push to
  // channel/rendition with `key` may feed, per the channel table in effect; else the refusal
  // (404 unknown-channel / unknown-rendition, 403 bad-stream-key).
  struct Admission {
    LiveRendition* rendition = nullptr;
    int status = 0;
    const char* reason = nullptr;
  };
  // `kind` ("http", "srt", "rtmp") and `client` are for the log line of a refused key.
  Admission admit(std::string_view channel, std::string_view rendition, std::string_view key,
                  const char* kind, std::string_view client) const;
  // Lists an admitted input, so that draining (503 draining) and a channel change that no longer
  // admits it (403 stream-key-changed, channel-removed, rendition-removed) end it: `end` is called
  // on any thread and must hand the answer to the input's own thread. Returns the refusal when
  // the table changed since admit() (the input is not listed), else nullptr.
  const char* track(std::shared_ptr<LiveSource> src, LiveRendition* r, std::string key,
                    std::function<void(int status, const char* reason)> end);
  // Binds every configured UDP input on `w`'s loop (before its thread runs).
  Result<void> bind_udp(net::Worker& w);
  // Starts the SRT and RTMP listeners configured in live.srt / live.rtmp (RTMP on `w`'s loop)
  // and the renditions' SRT pulls (from the start-up config only).
  Result<void> start_listeners(net::Worker& w);
  // SRT and RTMP publishers: admit() plus a new input, tracked like an HTTP push. `cut` is called
  // on any thread with the input's source id when draining or a table change ends it, and must
  // hand the cut to the input's own thread. The error's message is the refusal reason, not yet
  // counted.
  Result<IngestAdmission> admit_publisher(
      const ingest::StreamTarget& target, const char* kind, const std::string& client,
      std::function<void(uint64_t source_id, const char* reason)> cut);
  // A new input for a rendition (each connection of a pulled input is one, like a reconnecting
  // encoder's).
  std::shared_ptr<LiveSource> new_source(bool backup, const char* kind);
  // Any thread, after the channel table changed: cuts the pushes `t` no longer admits (ended with
  // 403 and closed; returns how many) and has the UDP worker bind and close inputs to match `t`.
  size_t reconcile(std::shared_ptr<const ChannelTable> t);
  // Open pushes (HTTP, SRT, RTMP) per "channel/rendition" (the admin channel list).
  std::map<std::string, size_t> open_pushes();
  // Forgets pushes whose connection closed; with `draining`, answers the open ones 503 (once).
  void housekeep(bool draining);
  // After the worker threads stopped: closes the UDP handles and the SRT/RTMP listeners.
  void close();

 private:
  struct Push {
    std::shared_ptr<LiveSource> source;
    LiveRendition* rendition;
    std::string key;  // the stream key it was admitted with
    std::function<void(int, const char*)> end;
  };
  // On the UDP worker's thread (or before it runs): binds the inputs of `t` not bound yet and
  // closes those `t` no longer has; the first bind error, after trying every input.
  Result<void> sync_udp(const ChannelTable& t);
  Result<void> bind_one(LiveRendition* r, bool backup, const config::HostPort& addr);

  const LiveConfig& cfg_;
  LiveChannels& channels_;
  std::atomic<uint64_t> next_source_id_{1};
  std::mutex pushes_mu_;
  std::vector<Push> pushes_;
  bool drain_done_ = false;     // housekeeping's thread only
  std::vector<uv_udp_t*> udp_;  // the UDP worker's thread only
  net::Worker* udp_worker_ = nullptr;
  std::unique_ptr<ingest::Listeners> listeners_;
};

}  // namespace cdn::origin
