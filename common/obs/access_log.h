#pragma once
// The access log: one JSON line per request, written by a background thread so that the request
// path never waits for the disk.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/util/result.h"

namespace cdn::obs {

struct AccessRecord {
  int64_t ts_ms = 0;  // unix ms when the request started
  std::string client, method, host, path /*without query*/, protocol, cache /*HIT/MISS/...*/,
      upstream, reason, tier, service /*delivery service, empty when none took the request*/;
  int status = 0;
  uint64_t bytes_sent = 0;
  double duration_ms = 0;
  std::string user_agent;
};

// One line of valid JSON (no trailing newline); ts as RFC 3339 UTC with ms.
std::string to_json(const AccessRecord& r);

class AccessLog {
 public:
  // path: "-" = stdout, "off" = disabled (write() does nothing), else a file opened for append
  // (created 0644). max_queue: lines waiting for the writer before new ones are dropped.
  static Result<std::unique_ptr<AccessLog>> open(const std::string& path,
                                                 size_t max_queue = 65536);
  ~AccessLog();  // writes everything queued, then stops the writer
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Never blocks on I/O: queues the line (a '\n' is added if missing) for the writer thread. When
  // max_queue lines are waiting, the line is dropped and counted.
  void write(std::string line);
  // False for "off": callers skip building the line at all.
  bool enabled() const { return enabled_; }
  // Lines dropped because the queue was full.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Lines lost because writing to the file failed.
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }
  // Lines queued before this call go to the old file, later ones to a freshly opened `path`
  // (log rotation on SIGHUP). Call from normal code (e.g. a loop's signal watcher), not from a
  // signal handler. No effect for stdout or "off".
  void reopen();
  // Blocks until every line queued so far has been written (for tests and shutdown).
  void flush();

 private:
  AccessLog(std::string path, int fd, size_t max_queue);
  void run();

  const std::string path_;
  const bool enabled_;    // false for "off"
  const bool rotatable_;  // a file (not stdout)
  int fd_;                // -1 = disabled; 1 = stdout (not owned); used by the writer thread only
  const size_t max_queue_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::string> queue_;  // an empty string is a reopen marker
  size_t lines_queued_ = 0;        // lines in queue_, markers excluded
  uint64_t enqueued_ = 0, done_ = 0;  // entries taken in / completed, for flush()
  bool stop_ = false;
  std::atomic<uint64_t> dropped_{0}, write_errors_{0};
  std::thread writer_;
};

}  // namespace cdn::obs
