#include "common/cache/memory_tier.h"

#include <algorithm>

namespace cdn::cache {

namespace {
constexpr size_t kEntryOverhead = 256;
// Each body block is a shared string: its control block, string header and allocator slack.
constexpr size_t kBlockOverhead = 64;
}  // namespace

MemoryTier::MemoryTier(size_t byte_budget, size_t shards) {
  shards = std::max<size_t>(1, shards);
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>(byte_budget / shards));
}

size_t MemoryTier::charge_of(const CachedObject& obj) {
  size_t headers = 0;
  for (const auto& h : obj.meta.headers) headers += h.name.size() + h.value.size() + sizeof(StoredHeader);
  // The key text is held twice: once in the object, once in the shard's index.
  return kEntryOverhead + 2 * obj.key_text.size() + headers + obj.meta.etag.size() +
         obj.meta.last_modified.size() + obj.body.size + obj.body.chunks.size() * kBlockOverhead;
}

void MemoryTier::set_on_evict(std::function<void(std::string_view)> fn) {
  on_evict_ = std::move(fn);
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    s->policy.keep_evicted_keys(on_evict_ != nullptr);
  }
}

ObjectRef MemoryTier::get(const CacheKey& key) {
  ObjectRef obj;
  {
    Shard& s = shard_for(key.hash);
    std::lock_guard lock(s.mu);
    obj = s.policy.get(key.hash, key.text);
  }
  (obj ? stats_.hits : stats_.misses).fetch_add(1, std::memory_order_relaxed);
  return obj;
}

void MemoryTier::put(const CacheKey& key, ObjectRef obj) {
  if (!obj) return;
  size_t charge = charge_of(*obj);
  std::string text = key.text;  // copied before locking to keep the critical section short
  S3Fifo::PutResult r;
  {
    Shard& s = shard_for(key.hash);
    std::lock_guard lock(s.mu);
    r = s.policy.put(key.hash, std::move(text), std::move(obj), charge);
  }
  if (r.admitted) stats_.inserts.fetch_add(1, std::memory_order_relaxed);
  stats_.evictions.fetch_add(r.evicted, std::memory_order_relaxed);
  if (on_evict_)
    for (const auto& k : r.evicted_keys) on_evict_(k);
}

bool MemoryTier::erase(const CacheKey& key) {
  Shard& s = shard_for(key.hash);
  std::lock_guard lock(s.mu);
  return s.policy.erase(key.hash, key.text);
}

size_t MemoryTier::erase_prefix(std::string_view key_text_prefix) {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->policy.erase_prefix(key_text_prefix);
  }
  return n;
}

namespace {
ObjectRef marked_stale(const ObjectRef& obj) {
  if (!obj || obj->meta.soft_purged) return obj;
  auto copy = std::make_shared<CachedObject>(*obj);  // the body's blocks are shared, not copied
  copy->meta.soft_purged = true;
  return copy;
}
}  // namespace

bool MemoryTier::mark_stale(const CacheKey& key) {
  Shard& s = shard_for(key.hash);
  std::lock_guard lock(s.mu);
  return s.policy.rewrite(key.hash, key.text, marked_stale);
}

size_t MemoryTier::mark_stale_prefix(std::string_view key_text_prefix) {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->policy.rewrite_prefix(key_text_prefix, marked_stale);
  }
  return n;
}

size_t MemoryTier::bytes() const {
  return sum_over_shards([](const S3Fifo& p) { return p.bytes(); });
}

size_t MemoryTier::count() const {
  return sum_over_shards([](const S3Fifo& p) { return p.count(); });
}

}  // namespace cdn::cache
