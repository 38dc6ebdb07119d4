#pragma once
// Size accounting records of the disk tier (disk_tier.h) and the compaction-filter hook that tells
// it which objects RocksDB dropped on its own.
//
// Two small column families sit next to the objects (default column family, key = key text, the
// head records) and their chunks (kChunksFamily, object.h chunk_key()):
//   index: key text          -> IndexEntry{seq, size, chunks}
//   order: big-endian seq    -> OrderEntry{size, key text}   (iteration order = insertion order)
// Every write keeps them paired: index[k] = {s, n} exactly when order[s] = {n, k}. The tier's live
// byte count is the sum of `size` over the order column family; `size` covers the head and every
// chunk record (values and keys), `chunks` says which chunk records to delete with the head.
#include <rocksdb/compaction_filter.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::cache::disk {

inline constexpr const char* kIndexFamily = "index";
inline constexpr const char* kOrderFamily = "order";
inline constexpr const char* kChunksFamily = "chunks";

struct IndexEntry {
  uint64_t seq = 0;
  uint64_t size = 0;
  uint32_t chunks = 0;  // chunk records of the object (0 for a body inside its head)
};

struct OrderEntry {
  uint64_t size = 0;
  std::string key_text;
};

// 8 bytes, big-endian, so that byte order is numeric order.
std::string encode_seq(uint64_t seq);
std::optional<uint64_t> decode_seq(std::string_view key);

std::string encode_index(const IndexEntry& e);
std::optional<IndexEntry> decode_index(std::string_view value);

std::string encode_order(uint64_t size, std::string_view key_text);
std::optional<OrderEntry> decode_order(std::string_view value);

// Keys whose values a compaction filter removed, for the tier to reconcile its records with.
// Bounded: past `capacity` keys are dropped and counted (their records are then reclaimed when the
// eviction cursor reaches them, which tolerates records without an object).
class DroppedKeys {
 public:
  explicit DroppedKeys(size_t capacity = size_t(1) << 17) : capacity_(capacity) {}
  void add(std::string_view key_text);
  std::vector<std::string> take();
  bool pending() const { return pending_.load(std::memory_order_acquire); }
  uint64_t overflowed() const { return overflowed_.load(std::memory_order_relaxed); }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::vector<std::string> keys_;
  std::atomic<bool> pending_{false};
  std::atomic<uint64_t> overflowed_{0};
};

// Delegates every decision to `inner` and reports the keys it removes to `sink`. Thread-safe as
// long as `inner` is.
class RecordingCompactionFilter : public rocksdb::CompactionFilter {
 public:
  RecordingCompactionFilter(std::unique_ptr<rocksdb::CompactionFilter> inner, DroppedKeys* sink)
      : inner_(std::move(inner)), sink_(sink) {}

  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice& existing_value, std::string* new_value,
                    std::string* skip_until) const override;
  const char* Name() const override { return inner_->Name(); }

 private:
  std::unique_ptr<rocksdb::CompactionFilter> inner_;
  DroppedKeys* sink_;
};

}  // namespace cdn::cache::disk
