#pragma once
// SRT caller mode: the origin connects to the `srt_pull` / `srt_pull_backup` URL of each
// configured rendition (an encoder or gateway in SRT listener mode) and feeds what it receives
// as that rendition's primary or backup input. A failed or broken connection ends the input and
// is retried every second; the failure is counted once per outage (cdn_live_errors_total
// {reason="srt-pull-failed"}).
//
// The pulls follow the channel table: follow() hands the thread the pulls the new table has; it
// stops those no longer wanted (their inputs end) and starts the new ones, leaving the others be.
//
// Threads: one thread of its own with libsrt's epoll, like the listener.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "origin-shield/origin/ingest/srt_url.h"
#include "origin-shield/origin/live_ingest.h"

namespace cdn::origin::ingest {

class SrtPuller {
 public:
  struct Pull {
    IngestAdmission in;  // in.source: the current connection's input (a new one per connection)
    SrtPullUrl url;
    int sock = -1;
    bool connected = false;
    bool failing = false;  // the last attempt failed (counted and logged once)
    int64_t next_attempt_ms = 0;
  };

  SrtPuller(std::vector<Pull> pulls, LiveIngest& ingest)
      : pulls_(std::move(pulls)), ingest_(ingest) {}
  SrtPuller(const SrtPuller&) = delete;
  SrtPuller& operator=(const SrtPuller&) = delete;
  ~SrtPuller() { stop(); }

  Result<void> start();
  void stop();
  // Any thread: the pulls wanted from now on (a pull is the same one if its rendition, role and
  // URL are).
  void follow(std::vector<Pull> wanted);

 private:
  void run();
  void connect(Pull& p, int64_t now);
  void on_event(Pull& p, int events, int64_t now);
  void lost(Pull& p, int64_t now, const char* why);
  void apply_wanted();

  std::vector<Pull> pulls_;
  LiveIngest& ingest_;
  int epoll_ = -1;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex wanted_mu_;
  std::optional<std::vector<Pull>> wanted_;  // from follow(), for the thread
};

}  // namespace cdn::origin::ingest
