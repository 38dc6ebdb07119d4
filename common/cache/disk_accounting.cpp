#include "common/cache/disk_accounting.h"

#include <utility>

namespace cdn::cache::disk {

namespace {

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
}

uint64_t get_u64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | uint8_t(in[i]);
  return v;
}

}  // namespace

std::string encode_seq(uint64_t seq) {
  std::string out;
  out.reserve(8);
  put_u64(out, seq);
  return out;
}

std::optional<uint64_t> decode_seq(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return get_u64(key);
}

// 16 bytes {seq, size} for an object without chunk records (also every record written before
// chunked bodies existed), 20 with the chunk count after them.
std::string encode_index(const IndexEntry& e) {
  std::string out;
  out.reserve(20);
  put_u64(out, e.seq);
  put_u64(out, e.size);
  if (e.chunks != 0)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((e.chunks >> shift) & 0xff));
  return out;
}

std::optional<IndexEntry> decode_index(std::string_view value) {
  if (value.size() != 16 && value.size() != 20) return std::nullopt;
  IndexEntry e{get_u64(value), get_u64(value.substr(8)), 0};
  if (value.size() == 20)
    for (size_t i = 16; i < 20; ++i) e.chunks = (e.chunks << 8) | uint8_t(value[i]);
  return e;
}

std::string encode_order(uint64_t size, std::string_view key_text) {
  std::string out;
  out.reserve(8 + key_text.size());
  put_u64(out, size);
  out.append(key_text);
  return out;
}

std::optional<OrderEntry> decode_order(std::string_view value) {
  if (value.size() < 8) return std::nullopt;
  return OrderEntry{get_u64(value), std::string(value.substr(8))};
}

void DroppedKeys::add(std::string_view key_text) {
  std::lock_guard lock(mu_);
  if (keys_.size() >= capacity_) {
    overflowed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  keys_.emplace_back(key_text);
  pending_.store(true, std::memory_order_release);
}

std::vector<std::string> DroppedKeys::take() {
  std::lock_guard lock(mu_);
  pending_.store(false, std::memory_order_release);
  return std::exchange(keys_, {});
}

rocksdb::CompactionFilter::Decision RecordingCompactionFilter::FilterV2(int level, const rocksdb::Slice& key,
                                                                        ValueType value_type,
                                                                        const rocksdb::Slice& existing_value,
                                                                        std::string* new_value,
                                                                        std::string* skip_until) const {
  Decision d = inner_->FilterV2(level, key, value_type, existing_value, new_value, skip_until);
  // The removed value may be an older version under a newer one elsewhere in the tree: the tier
  // checks under the key's lock before it touches the records.
  if (d == Decision::kRemove) sink_->add(std::string_view(key.data(), key.size()));
  return d;
}

}  // namespace cdn::cache::disk
