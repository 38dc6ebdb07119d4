#pragma once
// A mergeable latency histogram: log-linear buckets (64 per power of two, so a percentile is off
// by at most 1/64 of its value) over microseconds, exact count, sum and max. Processes of one run
// each keep their own and the parent merges them, which a list of samples or a running
// percentile could not do in bounded memory.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cdn::viewers {

class Histogram {
 public:
  void add(uint64_t us);
  void merge(const Histogram& other);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
  // Nearest-rank percentile (q in [0, 100]): the bucket's upper edge clamped to the exact max, so
  // p100 is the max and a single sample is its own every percentile. 0 when empty.
  uint64_t percentile(double q) const;

  // Non-empty buckets as (index, count), for the report that a parent process merges.
  std::vector<std::pair<uint32_t, uint64_t>> sparse() const;
  void add_bucket(uint32_t index, uint64_t n);
  void set_max(uint64_t m) { max_ = m > max_ ? m : max_; }
  void add_sum(uint64_t s) { sum_ += s; }
  uint64_t sum() const { return sum_; }

  static uint32_t bucket_of(uint64_t us);
  static uint64_t upper_edge(uint32_t index);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0, sum_ = 0, max_ = 0;
};

}  // namespace cdn::viewers
