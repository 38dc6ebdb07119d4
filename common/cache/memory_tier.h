#pragma once
// In-memory object cache shared by the event-loop threads. Sharded by key hash with one mutex per
// shard (no global lock on get/put); each shard evicts with S3-FIFO (s3fifo.h).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/cache/key.h"
#include "common/cache/object.h"
#include "common/cache/s3fifo.h"

namespace cdn::cache {

class MemoryTier {
 public:
  // byte_budget is split evenly across shards; an object larger than one shard's share is never
  // admitted.
  explicit MemoryTier(size_t byte_budget, size_t shards = 16);

  // Called (outside the shard's lock) with the key text of every object eviction removes: how an
  // index of what is cached here forgets it. Set before use; not thread-safe to change.
  void set_on_evict(std::function<void(std::string_view key_text)> fn);

  ObjectRef get(const CacheKey& key);
  void put(const CacheKey& key, ObjectRef obj);
  bool erase(const CacheKey& key);
  size_t erase_prefix(std::string_view key_text_prefix);
  // Soft purge: the object (or every object under the prefix) is replaced by a copy marked
  // soft_purged (purge_marks.h); returns how many.
  bool mark_stale(const CacheKey& key);
  size_t mark_stale_prefix(std::string_view key_text_prefix);
  size_t bytes() const;
  size_t count() const;

  struct Stats {
    std::atomic<uint64_t> hits{0}, misses{0}, inserts{0}, evictions{0};
  };
  const Stats& stats() const { return stats_; }

  // What an object costs against the budget: body and a per-block overhead (bodies loaded from
  // disk come as chunk-sized blocks), key, headers and a fixed per-entry overhead for the index,
  // queue node and allocations.
  static size_t charge_of(const CachedObject& obj);

 private:
  struct Shard {
    explicit Shard(size_t budget) : policy(budget) {}
    mutable std::mutex mu;
    S3Fifo policy;
  };
  Shard& shard_for(uint64_t hash) { return *shards_[hash % shards_.size()]; }
  // Locks one shard at a time: the total is not a snapshot, which metrics do not need.
  template <typename F>
  size_t sum_over_shards(F f) const {
    size_t n = 0;
    for (const auto& s : shards_) {
      std::lock_guard lock(s->mu);
      n += f(s->policy);
    }
    return n;
  }

  std::vector<std::unique_ptr<Shard>> shards_;
  std::function<void(std::string_view)> on_evict_;
  Stats stats_;
};

}  // namespace cdn::cache
