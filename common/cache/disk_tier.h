#pragma once
// RocksDB-backed object tier. Head records (object.h) under key = key text, so a prefix purge is
// a range scan; bodies above one chunk in chunk records of their own column family, so that a
// range reads only the chunks it needs. Large values live in integrated BlobDB files, keeping the
// LSM tree small; expired objects are dropped by a compaction filter. All blocking I/O of the async
// calls runs on an internal pool. With max_bytes set, the oldest-inserted objects are evicted
// (FIFO) by the tier's own thread once the stored bytes pass the cap (disk_accounting.h,
// README.md).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cache/object.h"
#include "common/util/result.h"

namespace cdn::cache {

struct DiskOptions {
  std::string path;
  // 0 = unlimited. Otherwise a cap on the stored bytes (serialized value + key of every object):
  // past it the oldest-inserted objects are evicted until about 90% of it is left. Files on disk
  // run somewhat above it (RocksDB metadata, WAL, blob garbage not yet collected). An object larger
  // than the cap is not stored.
  uint64_t max_bytes = 0;
  size_t io_threads = 2;
  size_t blob_min_size = 4096;
  // Clock for the expiry compaction filter; tests inject one, nullptr = unix_now().
  std::function<int64_t()> now_s;
  // Called with the key text of each object the tier removes on its own (eviction, expiry), on
  // the tier's threads: how the surrogate-key index in memory forgets it.
  std::function<void(std::string_view key_text)> on_removed;
};

class DiskTier {
 public:
  // Largest body get_async loads whole (a typical HLS segment is well below it).
  static constexpr uint64_t kResidentBodyMax = 8ull << 20;

  static Result<std::unique_ptr<DiskTier>> open(const DiskOptions& options);
  // Runs every queued get/put, then closes the database cleanly.
  ~DiskTier();
  DiskTier(const DiskTier&) = delete;
  DiskTier& operator=(const DiskTier&) = delete;

  // Reads on a pool thread and calls done there with nullptr on a miss or a corrupt value; the
  // caller hops back to its own event loop. A body above kResidentBodyMax is not read: the object
  // comes with on_disk set, for the caller to read by range.
  void get_async(std::string key_text, std::function<void(ObjectRef)> done);
  // The whole object, its chunks read and checked (an object too large for memory should be
  // read by range instead).
  ObjectRef get_sync(std::string_view key_text);
  // The head record alone: metadata, and the body only when it is stored inside the head. nullopt
  // on a miss or a corrupt record (which is dropped). Counts a hit or a miss.
  std::optional<StoredHead> get_head_sync(std::string_view key_text);
  void get_head_async(std::string key_text, std::function<void(std::optional<StoredHead>)> done);
  // Bytes [first, last] of the body of `head`, reading only the chunks that hold them. An error
  // when a chunk is missing or broken, or belongs to another version of the key (rewritten since
  // the head was read): the caller treats that as a miss.
  Result<Body> read_range_sync(const StoredHead& head, uint64_t first, uint64_t last);
  Result<Body> read_range_sync(const BodyOnDisk& body, uint64_t first, uint64_t last);
  void read_range_async(std::shared_ptr<const BodyOnDisk> body, uint64_t first, uint64_t last,
                        std::function<void(Result<Body>)> done);
  // Serializes and writes on a pool thread; `done` (optional) runs there after the write.
  void put_async(ObjectRef obj, std::function<void()> done = nullptr);
  // Deletes on a pool thread (erase() reads first to report existence; the hot path needn't).
  void erase_async(std::string key_text);
  bool erase(std::string_view key_text);
  size_t erase_prefix(std::string_view key_text_prefix);
  // Soft purge: marks the stored object (or every object under the prefix) soft_purged, rewriting
  // its head record only; returns how many were marked.
  bool mark_stale(std::string_view key_text);
  size_t mark_stale_prefix(std::string_view key_text_prefix);
  // erase / mark_stale of many keys (a purge by surrogate key), a few hundred per write batch;
  // return how many were there.
  size_t erase_many(const std::vector<std::string>& key_texts);
  size_t mark_stale_many(const std::vector<std::string>& key_texts);
  // Surrogate keys (disk_tags.h): the key texts of the objects stored with `key`, and every
  // object's keys (to rebuild the in-memory index at start). Both block the caller.
  std::vector<std::string> objects_with_tag(std::string_view key);
  void for_each_object_tags(
      const std::function<void(std::string_view key_text, const std::vector<std::string>& keys)>& fn);
  // Blocks until every get/put queued so far, and the eviction they caused, has finished (tests,
  // orderly handoff).
  void wait_idle();
  // Flushes memtables and compacts everything, running the expiry filter (tests, tools).
  Result<void> compact_all();

  struct Stats {
    std::atomic<uint64_t> hits{0}, misses{0}, corrupt{0}, writes{0}, write_errors{0};
    // Objects removed to stay under max_bytes, and objects not stored for being larger than it.
    std::atomic<uint64_t> evictions{0}, evicted_bytes{0}, too_large{0};
    // Chunk records read, and heads read in an older format version.
    std::atomic<uint64_t> chunk_reads{0}, legacy_reads{0};
  };
  const Stats& stats() const { return stats_; }
  // Live stored bytes: what max_bytes is compared with. Survives reopen. May briefly include
  // objects the expiry filter already dropped, until the tier has reconciled them.
  uint64_t bytes() const;

 private:
  struct Impl;
  explicit DiskTier(std::unique_ptr<Impl> impl);
  void drop_corrupt(std::string_view key_text);
  std::optional<StoredHead> read_head(std::string_view key_text);  // counts no hit or miss
  ObjectRef load_body(std::string_view key_text,
                      std::optional<StoredHead> head);  // counts hit or miss

  std::unique_ptr<Impl> impl_;
  Stats stats_;
};

}  // namespace cdn::cache
