#pragma once
// SRT ingest in listener mode (libsrt). A publisher names its rendition, key and role in the
// streamid (stream_target.h); the listen callback refuses a bad one during the handshake with an
// SRT reject reason (1400 bad streamid, 1403 wrong key, 1404 unknown channel/rendition), counted
// in cdn_live_errors_total{reason}. With live.srt.encrypt the channel's stream key is also the
// passphrase. The payload is MPEG-TS, fed to the rendition like any other input.
//
// Threads: one thread of its own waits on libsrt's epoll and reads every connection; no libuv loop
// is involved. libsrt runs the listen callback on its own receiver thread: it only checks. A
// publisher that a channel change or draining ends is queued for that thread, which closes it.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct sockaddr;

#include "common/util/result.h"
#include "origin-shield/origin/ingest/ingest_config.h"
#include "origin-shield/origin/live_ingest.h"

namespace cdn::origin::ingest {

class SrtListener {
 public:
  SrtListener(const SrtIngestConfig& cfg, LiveIngest& ingest) : cfg_(cfg), ingest_(ingest) {}
  SrtListener(const SrtListener&) = delete;
  SrtListener& operator=(const SrtListener&) = delete;
  ~SrtListener() { stop(); }

  // Binds, listens and starts the thread.
  Result<void> start();
  // Closes every connection (their inputs end) and joins the thread. Idempotent.
  void stop();

 private:
  struct Connection {
    IngestAdmission in;
    std::string peer;
  };
  static int on_listen(void* self, int sock, int hsversion, const ::sockaddr* peer,
                       const char* streamid);
  int check(int sock, const ::sockaddr* peer, const char* streamid);
  void run();
  void accept_pending();
  void read_all(int sock);
  void drop(int sock, const char* why);
  // Any thread: has the listener's thread close the connection whose input is `source_id`.
  void cut(uint64_t source_id, const char* reason);
  void run_cuts();

  const SrtIngestConfig& cfg_;
  LiveIngest& ingest_;
  int listener_ = -1;
  int epoll_ = -1;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::map<int, Connection> conns_;  // the thread's only
  std::mutex cuts_mu_;
  std::vector<std::pair<uint64_t, const char*>> cuts_;  // source id, reason
};

}  // namespace cdn::origin::ingest
