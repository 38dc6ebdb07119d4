#include "bench/viewers/histogram.h"

#include <gtest/gtest.h>

#include <random>

namespace cdn::viewers {
namespace {

TEST(Histogram, EmptyIsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.mean(), 0);
}

TEST(Histogram, OneSampleIsEveryPercentile) {
  Histogram h;
  h.add(123456);
  EXPECT_EQ(h.percentile(0), 123456u);
  EXPECT_EQ(h.percentile(50), 123456u);
  EXPECT_EQ(h.percentile(100), 123456u);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 10; ++v) h.add(v);
  // Nearest rank: p50 of 1..10 is the 5th value, p90 the 9th, p99 and p100 the 10th.
  EXPECT_EQ(h.percentile(50), 5u);
  EXPECT_EQ(h.percentile(90), 9u);
  EXPECT_EQ(h.percentile(99), 10u);
  EXPECT_EQ(h.percentile(100), 10u);
}

TEST(Histogram, LargeValuesWithinOneSixtyFourth) {
  Histogram h;
  for (uint64_t ms = 1; ms <= 1000; ++ms) h.add(ms * 1000);  // 1..1000 ms in µs
  for (double q : {50.0, 90.0, 99.0, 99.9}) {
    double exact = q / 100 * 1000 * 1000;
    double got = double(h.percentile(q));
    EXPECT_GE(got, exact) << q;  // the bucket's upper edge: never below the true value
    EXPECT_LE(got, exact * (1 + 1.0 / 64) + 1000) << q;
  }
  EXPECT_EQ(h.percentile(100), 1000000u);
  EXPECT_EQ(h.max(), 1000000u);
  EXPECT_DOUBLE_EQ(h.mean(), 500.5 * 1000);
}

TEST(Histogram, BucketEdgesContainTheirValues) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    uint32_t b = Histogram::bucket_of(v);
    EXPECT_GE(Histogram::upper_edge(b), v);
    if (b > 0) {
      EXPECT_LT(Histogram::upper_edge(b - 1), v);
    }
  }
}

TEST(Histogram, MergeEqualsOneHistogramOfBoth) {
  Histogram a, b, both;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) {
    uint64_t v = rng() % 5000000;
    (i % 3 ? a : b).add(v);
    both.add(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_EQ(a.sum(), both.sum());
  for (double q : {1.0, 50.0, 99.0, 100.0}) EXPECT_EQ(a.percentile(q), both.percentile(q)) << q;
}

TEST(Histogram, SparseRoundTrip) {
  Histogram a;
  for (uint64_t v : {0u, 5u, 70u, 70u, 100000u}) a.add(v);
  Histogram b;
  for (auto [i, n] : a.sparse()) b.add_bucket(i, n);
  b.add_sum(a.sum());
  b.set_max(a.max());
  EXPECT_EQ(b.count(), 5u);
  EXPECT_EQ(b.percentile(50), a.percentile(50));
  EXPECT_EQ(b.percentile(100), 100000u);
}

}  // namespace
}  // namespace cdn::viewers
