#include "common/cache/s3fifo.h"

#include <algorithm>
#include <vector>

namespace cdn::cache {

namespace {
constexpr uint8_t kMaxFreq = 3;
// The ghost remembers about as many keys as the cache holds (the paper's sizing), with a floor
// so that a shard holding a few large objects still recognizes recent ones.
constexpr size_t kMinGhostEntries = 64;
}  // namespace

S3Fifo::S3Fifo(size_t byte_budget) : budget_(byte_budget), small_target_(byte_budget / 10) {}

ObjectRef S3Fifo::get(uint64_t hash, std::string_view key_text) {
  auto it = nodes_.find(hash);
  if (it == nodes_.end() || it->second.key_text != key_text) return nullptr;
  Node& n = it->second;
  if (n.freq < kMaxFreq) ++n.freq;
  return n.obj;
}

S3Fifo::PutResult S3Fifo::put(uint64_t hash, std::string key_text, ObjectRef obj, size_t charge) {
  PutResult result;
  if (charge > budget_) {
    remove(hash);
    return result;
  }
  auto it = nodes_.find(hash);
  if (it != nodes_.end()) {
    // Replacement keeps the key's queue position and access history: it is the same resource.
    Node& n = it->second;
    (n.in_main ? main_bytes_ : small_bytes_) += charge;
    (n.in_main ? main_bytes_ : small_bytes_) -= n.charge;
    n.charge = charge;
    n.obj = std::move(obj);
    n.key_text = std::move(key_text);
  } else {
    Node& n = nodes_[hash];
    n.key_text = std::move(key_text);
    n.obj = std::move(obj);
    n.charge = charge;
    n.in_main = take_ghost(hash);
    auto& queue = n.in_main ? main_ : small_;
    queue.push_front(hash);
    n.pos = queue.begin();
    (n.in_main ? main_bytes_ : small_bytes_) += charge;
  }
  result.admitted = true;
  result.evicted = evict_until_within_budget();
  if (keep_evicted_keys_) result.evicted_keys = std::move(evicted_keys_);
  evicted_keys_.clear();
  return result;
}

bool S3Fifo::erase(uint64_t hash, std::string_view key_text) {
  auto it = nodes_.find(hash);
  if (it == nodes_.end() || it->second.key_text != key_text) return false;
  remove(hash);
  return true;
}

bool S3Fifo::rewrite(uint64_t hash, std::string_view key_text, const Rewrite& with) {
  auto it = nodes_.find(hash);
  if (it == nodes_.end() || it->second.key_text != key_text) return false;
  it->second.obj = with(it->second.obj);
  return true;
}

size_t S3Fifo::rewrite_prefix(std::string_view prefix, const Rewrite& with) {
  size_t n = 0;
  for (auto& [hash, node] : nodes_) {
    if (std::string_view(node.key_text).substr(0, prefix.size()) != prefix) continue;
    node.obj = with(node.obj);
    ++n;
  }
  return n;
}

size_t S3Fifo::erase_prefix(std::string_view prefix) {
  std::vector<uint64_t> victims;
  for (const auto& [hash, n] : nodes_)
    if (std::string_view(n.key_text).substr(0, prefix.size()) == prefix) victims.push_back(hash);
  for (uint64_t h : victims) remove(h);
  return victims.size();
}

size_t S3Fifo::evict_until_within_budget() {
  size_t evicted = 0;
  while (bytes() > budget_ && !nodes_.empty()) {
    bool from_small = !small_.empty() && (small_bytes_ >= small_target_ || main_.empty());
    if (from_small ? evict_from_small() : evict_from_main()) ++evicted;
  }
  return evicted;
}

bool S3Fifo::evict_from_small() {
  uint64_t hash = small_.back();
  Node& n = nodes_.at(hash);
  if (n.freq > 0) {
    // Read while on probation: promote, and make it earn its place in main from scratch.
    small_.pop_back();
    small_bytes_ -= n.charge;
    n.freq = 0;
    n.in_main = true;
    main_.push_front(hash);
    n.pos = main_.begin();
    main_bytes_ += n.charge;
    return false;
  }
  if (keep_evicted_keys_) evicted_keys_.push_back(std::move(n.key_text));
  remove(hash);
  remember_ghost(hash);
  return true;
}

bool S3Fifo::evict_from_main() {
  uint64_t hash = main_.back();
  Node& n = nodes_.at(hash);
  if (n.freq > 0) {
    --n.freq;
    main_.splice(main_.begin(), main_, n.pos);  // reinsert at the head, iterator stays valid
    return false;
  }
  if (keep_evicted_keys_) evicted_keys_.push_back(std::move(n.key_text));
  remove(hash);
  return true;
}

void S3Fifo::unlink(Node& n) {
  if (n.in_main) {
    main_.erase(n.pos);
    main_bytes_ -= n.charge;
  } else {
    small_.erase(n.pos);
    small_bytes_ -= n.charge;
  }
}

void S3Fifo::remove(uint64_t hash) {
  auto it = nodes_.find(hash);
  if (it == nodes_.end()) return;
  unlink(it->second);
  nodes_.erase(it);  // drops this reference only; readers holding the ObjectRef keep the object
}

void S3Fifo::remember_ghost(uint64_t hash) {
  uint64_t seq = ++ghost_seq_;
  ghost_live_[hash] = seq;
  ghost_fifo_.emplace_back(hash, seq);
  size_t cap = std::max(nodes_.size(), kMinGhostEntries);
  while (ghost_live_.size() > cap || ghost_fifo_.size() > 2 * cap) {
    auto [old_hash, old_seq] = ghost_fifo_.front();
    ghost_fifo_.pop_front();
    auto it = ghost_live_.find(old_hash);
    if (it != ghost_live_.end() && it->second == old_seq) ghost_live_.erase(it);
  }
}

bool S3Fifo::take_ghost(uint64_t hash) { return ghost_live_.erase(hash) > 0; }

}  // namespace cdn::cache
