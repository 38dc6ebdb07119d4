#include "common/http/client_limits.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace cdn::http {

namespace {

ClientKeyHash random_hash() {
  std::random_device rd;
  return ClientKeyHash{(uint64_t(rd()) << 32) ^ rd()};
}

// Shards are picked from the high bits so the map inside a shard still sees well-spread low bits.
size_t shard_index(const ClientKeyHash& h, const ClientKey& key) {
  return (h(key) >> 58) % kClientLimitShards;
}

// Entries over every shard, each read under its own lock (for tests and diagnostics).
template <typename Shards, typename Map>
size_t total_entries(const Shards& shards, Map member) {
  size_t n = 0;
  for (auto& s : shards) {
    std::lock_guard lk(s.mu);
    n += (s.*member).size();
  }
  return n;
}

constexpr int64_t kSweepIntervalMs = 60'000;

}  // namespace

ClientConnectionCounter::ClientConnectionCounter(uint32_t max_per_client)
    : max_(max_per_client), hash_(random_hash()) {}

ClientConnectionCounter::Shard& ClientConnectionCounter::shard(const ClientKey& key) const {
  return shards_[shard_index(hash_, key)];
}

bool ClientConnectionCounter::acquire(const ClientKey& key) {
  Shard& s = shard(key);
  std::lock_guard lk(s.mu);
  auto [it, inserted] = s.counts.try_emplace(key, 0);
  if (it->second >= max_) {
    if (inserted) s.counts.erase(it);  // only when max_ is 0
    return false;
  }
  ++it->second;
  return true;
}

void ClientConnectionCounter::release(const ClientKey& key) {
  Shard& s = shard(key);
  std::lock_guard lk(s.mu);
  auto it = s.counts.find(key);
  if (it == s.counts.end()) return;
  if (--it->second == 0) s.counts.erase(it);
}

uint32_t ClientConnectionCounter::count(const ClientKey& key) const {
  Shard& s = shard(key);
  std::lock_guard lk(s.mu);
  auto it = s.counts.find(key);
  return it == s.counts.end() ? 0 : it->second;
}

size_t ClientConnectionCounter::tracked_clients() const {
  return total_entries(shards_, &Shard::counts);
}

ClientRateLimiter::ClientRateLimiter(double per_second, double burst, size_t max_clients)
    : per_ms_(per_second / 1000.0),
      burst_(std::max(1.0, burst > 0 ? burst : 2 * per_second)),
      refill_ms_(int64_t(std::ceil(burst_ / per_ms_))),
      per_shard_cap_(std::max<size_t>(1, max_clients / kClientLimitShards)),
      hash_(random_hash()) {}

void ClientRateLimiter::sweep(Shard& s, int64_t now_ms) const {
  s.last_sweep_ms = now_ms;
  std::erase_if(s.buckets,
                [&](const auto& kv) { return now_ms - kv.second.last_ms >= refill_ms_; });
}

RateDecision ClientRateLimiter::allow(const ClientKey& key, int64_t now_ms) {
  Shard& s = shards_[shard_index(hash_, key)];
  std::lock_guard lk(s.mu);
  if (now_ms - s.last_sweep_ms >= kSweepIntervalMs) sweep(s, now_ms);
  auto it = s.buckets.find(key);
  if (it == s.buckets.end()) {
    // A full shard is swept at most once per millisecond: under a flood of new addresses the
    // refusals stay cheap.
    if (s.buckets.size() >= per_shard_cap_ && now_ms != s.last_sweep_ms) sweep(s, now_ms);
    if (s.buckets.size() >= per_shard_cap_) return RateDecision::TableFull;
    s.buckets.emplace(key, Bucket{burst_ - 1, now_ms});
    return RateDecision::Allowed;
  }
  Bucket& b = it->second;
  if (now_ms > b.last_ms) {
    b.tokens = std::min(burst_, b.tokens + double(now_ms - b.last_ms) * per_ms_);
    b.last_ms = now_ms;
  }
  if (b.tokens < 1) return RateDecision::OverRate;
  b.tokens -= 1;
  return RateDecision::Allowed;
}

size_t ClientRateLimiter::tracked_clients() const {
  return total_entries(shards_, &Shard::buckets);
}

}  // namespace cdn::http
