#pragma once
// Verified-token cache: SHA-256(token) → parsed claims, so a player fetching a segment every few
// seconds with the same token costs one hash instead of one signature check. A cryptographic hash
// as the key means no token can be crafted to collide with a cached one. Bounded (LRU per shard),
// entries die at the token's exp, and a key-set generation makes a JWKS reload invalidate them.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/auth/claims.h"

namespace cdn::auth {

class TokenCache {
 public:
  explicit TokenCache(size_t capacity);

  // nullptr on miss, expiry (now_s >= expires_at_s) or a different key generation.
  std::shared_ptr<const Claims> get(const std::string& digest, uint64_t generation, int64_t now_s);
  void put(const std::string& digest, uint64_t generation, int64_t expires_at_s,
           std::shared_ptr<const Claims> claims);
  size_t size() const;

 private:
  struct Entry {
    std::string digest;
    uint64_t generation;
    int64_t expires_at_s;
    std::shared_ptr<const Claims> claims;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // front = most recent
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
  };
  static constexpr size_t kShards = 16;  // spreads worker threads over locks

  Shard& shard_for(const std::string& digest);

  size_t per_shard_;
  std::vector<Shard> shards_;
};

}  // namespace cdn::auth
