#pragma once
// Per-client-address limits shared by every worker thread of one HttpServer: open connections
// (a count per client, dropped when it returns to zero) and new requests per second (a token
// bucket per client). Both tables are split into mutex-guarded shards so the hot path takes one
// shard lock, never a global one.
#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "common/http/client_key.h"

namespace cdn::http {

struct ClientLimitsOptions {
  uint32_t max_connections_per_client = 0;  // 0 = off
  double requests_per_second = 0;           // 0 = off
  double request_burst = 0;                 // 0 = twice the rate (at least 1)
  size_t max_rate_clients = 65536;          // token buckets kept at most; when full, refuse
  ClientPrefixes prefixes;
};

inline constexpr size_t kClientLimitShards = 64;

// Memory is bounded by the number of open connections: an entry exists only while its count > 0.
class ClientConnectionCounter {
 public:
  explicit ClientConnectionCounter(uint32_t max_per_client);
  // False (and nothing counted) when the client already has max_per_client connections.
  bool acquire(const ClientKey& key);
  void release(const ClientKey& key);
  uint32_t count(const ClientKey& key) const;
  size_t tracked_clients() const;

 private:
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<ClientKey, uint32_t, ClientKeyHash> counts;
  };
  Shard& shard(const ClientKey& key) const;

  uint32_t max_;
  ClientKeyHash hash_;
  mutable std::array<Shard, kClientLimitShards> shards_;
};

enum class RateDecision { Allowed, OverRate, TableFull };

// Token buckets. A bucket idle long enough to have refilled completely is the same as no bucket,
// so those are what gets evicted: when a shard reaches its share of max_clients, and on a periodic
// sweep. If a shard is still full of active clients, new clients are refused rather than grown.
class ClientRateLimiter {
 public:
  ClientRateLimiter(double per_second, double burst, size_t max_clients);
  // now_ms: a monotonic clock (injected so tests can drive refill).
  RateDecision allow(const ClientKey& key, int64_t now_ms);
  size_t tracked_clients() const;

 private:
  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<ClientKey, Bucket, ClientKeyHash> buckets;
    int64_t last_sweep_ms = 0;
  };
  void sweep(Shard& s, int64_t now_ms) const;

  double per_ms_;
  double burst_;
  int64_t refill_ms_;  // time for an empty bucket to fill up: idle at least this long = evictable
  size_t per_shard_cap_;
  ClientKeyHash hash_;
  std::array<Shard, kClientLimitShards> shards_;
};

}  // namespace cdn::http
