#include "bench/viewers/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cdn::viewers {

namespace {
constexpr uint32_t kSubBits = 6;  // 64 sub-buckets per power of two
constexpr uint64_t kSub = 1u << kSubBits;
}  // namespace

// Values below 64 get one bucket each; above, a power of two [2^e, 2^(e+1)) is cut into 64 equal
// buckets.
uint32_t Histogram::bucket_of(uint64_t us) {
  if (us < kSub) return uint32_t(us);
  uint32_t e = uint32_t(std::bit_width(us)) - 1;  // us in [2^e, 2^(e+1))
  uint64_t sub = (us >> (e - kSubBits)) - kSub;   // 0..63
  return uint32_t((e - kSubBits + 1) * kSub + sub);
}

uint64_t Histogram::upper_edge(uint32_t index) {
  if (index < kSub) return index;
  uint32_t e = index / kSub + kSubBits - 1;
  uint64_t sub = index % kSub;
  uint64_t width = uint64_t(1) << (e - kSubBits);
  return (uint64_t(1) << e) + (sub + 1) * width - 1;
}

void Histogram::add(uint64_t us) {
  add_bucket(bucket_of(us), 1);
  sum_ += us;
  max_ = std::max(max_, us);
}

void Histogram::add_bucket(uint32_t index, uint64_t n) {
  if (index >= 64 * kSub) index = 64 * kSub - 1;  // past 2^63 µs nothing is real
  if (buckets_.size() <= index) buckets_.resize(index + 1, 0);
  buckets_[index] += n;
  count_ += n;
}

void Histogram::merge(const Histogram& o) {
  if (buckets_.size() < o.buckets_.size()) buckets_.resize(o.buckets_.size(), 0);
  for (size_t i = 0; i < o.buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
}

uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 100.0);
  // Nearest rank: the smallest value with at least ceil(q/100 * n) samples at or below it.
  uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(q / 100.0 * double(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upper_edge(uint32_t(i)), max_);
  }
  return max_;
}

std::vector<std::pair<uint32_t, uint64_t>> Histogram::sparse() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (size_t i = 0; i < buckets_.size(); ++i)
    if (buckets_[i]) out.emplace_back(uint32_t(i), buckets_[i]);
  return out;
}

}  // namespace cdn::viewers
