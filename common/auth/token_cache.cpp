#include "common/auth/token_cache.h"

namespace cdn::auth {

TokenCache::TokenCache(size_t capacity)
    : per_shard_(capacity / kShards > 0 ? capacity / kShards : 1), shards_(kShards) {}

TokenCache::Shard& TokenCache::shard_for(const std::string& digest) {
  // The digest is uniformly distributed, so its first byte is a fair shard index.
  size_t i = digest.empty() ? 0 : static_cast<uint8_t>(digest[0]) % kShards;
  return shards_[i];
}

std::shared_ptr<const Claims> TokenCache::get(const std::string& digest, uint64_t generation,
                                              int64_t now_s) {
  Shard& s = shard_for(digest);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(digest);
  if (it == s.index.end()) return nullptr;
  auto entry = it->second;
  if (entry->generation != generation || now_s >= entry->expires_at_s) {
    s.lru.erase(entry);
    s.index.erase(it);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, entry);
  return entry->claims;
}

void TokenCache::put(const std::string& digest, uint64_t generation, int64_t expires_at_s,
                     std::shared_ptr<const Claims> claims) {
  Shard& s = shard_for(digest);
  std::lock_guard lock(s.mu);
  if (auto it = s.index.find(digest); it != s.index.end()) {
    s.lru.erase(it->second);
    s.index.erase(it);
  }
  s.lru.push_front(Entry{digest, generation, expires_at_s, std::move(claims)});
  s.index.emplace(digest, s.lru.begin());
  while (s.lru.size() > per_shard_) {
    s.index.erase(s.lru.back().digest);
    s.lru.pop_back();
  }
}

size_t TokenCache::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.lru.size();
  }
  return n;
}

}  // namespace cdn::auth
