#pragma once
// The live origin's own RocksDB: segments keyed by channel/rendition/sequence, each rendition's
// playlist state and metadata. Writes go through one background thread in submission order (a
// segment and the playlist state that lists it in one batch), so the event loops never block on
// the disk; reads are synchronous and meant for libuv's thread pool.
//
// Keys: "s/<channel>/<rendition>/<20-digit sequence>" → 8-byte completion time (ms, LE) + TS bytes
//       "p/<channel>/<rendition>" → LivePlaylist::serialize()
//       "m/<channel>/<rendition>" → RenditionMeta::encode()
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/util/result.h"

namespace rocksdb {
class DB;
}

namespace cdn::origin {

struct StoredSegment {
  int64_t completed_ms = 0;
  std::string data;
};

class SegmentStore {
 public:
  static Result<std::shared_ptr<SegmentStore>> open(const std::string& path);
  ~SegmentStore();  // finishes every queued write
  SegmentStore(const SegmentStore&) = delete;
  SegmentStore& operator=(const SegmentStore&) = delete;

  static std::string segment_key(std::string_view channel, std::string_view rendition, uint64_t seq);
  static std::string state_key(std::string_view channel, std::string_view rendition);
  static std::string meta_key(std::string_view channel, std::string_view rendition);

  // Queued, in order. Each call is one atomic batch.
  void put_segment(std::string_view channel, std::string_view rendition, uint64_t seq,
                   int64_t completed_ms, std::string data, std::string state, std::string meta);
  void put(std::string key, std::string value);
  void remove_segments(std::string_view channel, std::string_view rendition, std::vector<uint64_t> seqs);
  void remove(std::vector<std::string> keys);
  // Blocks until everything queued so far is written.
  void flush();

  // Synchronous reads (thread pool or startup).
  std::optional<StoredSegment> get_segment(std::string_view channel, std::string_view rendition,
                                           uint64_t seq) const;
  std::optional<std::string> get(const std::string& key) const;
  // Every key/value under prefix, in key order.
  std::vector<std::pair<std::string, std::string>> scan(const std::string& prefix) const;
  // The keys only (a rendition's segments may be more than fits in memory).
  std::vector<std::string> keys(const std::string& prefix) const;
  // Sequences of stored segments of one rendition, ascending.
  std::vector<uint64_t> segment_sequences(std::string_view channel, std::string_view rendition) const;

  uint64_t write_errors() const;

 private:
  SegmentStore() = default;
  void run();

  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> queue_;
  bool busy_ = false;
  bool stop_ = false;
  uint64_t write_errors_ = 0;
  std::thread thread_;
};

}  // namespace cdn::origin
