#include "common/cache/memory_tier.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_ref;

CacheKey key_of(const std::string& path) { return make_key("example.com", path, "", {}); }

void put(MemoryTier& t, const std::string& path, size_t body_bytes) {
  CacheKey k = key_of(path);
  t.put(k, make_ref(k.text, std::string(body_bytes, 'x')));
}

TEST(MemoryTier, GetAfterPutAndMiss) {
  MemoryTier t(1 << 20);
  put(t, "/a", 100);
  ObjectRef o = t.get(key_of("/a"));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->body.size, 100u);
  EXPECT_FALSE(t.get(key_of("/b")));
  EXPECT_EQ(t.stats().hits, 1u);
  EXPECT_EQ(t.stats().misses, 1u);
  EXPECT_EQ(t.stats().inserts, 1u);
  EXPECT_EQ(t.count(), 1u);
}

TEST(MemoryTier, SameHashDifferentTextIsAMiss) {
  MemoryTier t(1 << 20);
  put(t, "/a", 10);
  CacheKey forged{"example.com/other", key_of("/a").hash};
  EXPECT_FALSE(t.get(forged));
  EXPECT_FALSE(t.erase(forged));
  EXPECT_EQ(t.count(), 1u);
}

TEST(MemoryTier, ReplacingAKeyKeepsAccountingExact) {
  MemoryTier t(1 << 20, 1);
  CacheKey k = key_of("/a");
  ObjectRef big = make_ref(k.text, std::string(5000, 'a'));
  ObjectRef small = make_ref(k.text, std::string(10, 'b'));
  t.put(k, big);
  EXPECT_EQ(t.bytes(), MemoryTier::charge_of(*big));
  t.put(k, small);
  EXPECT_EQ(t.bytes(), MemoryTier::charge_of(*small));
  EXPECT_EQ(t.count(), 1u);
  EXPECT_EQ(*t.get(k)->body.chunks[0], std::string(10, 'b'));
  EXPECT_TRUE(t.erase(k));
  EXPECT_EQ(t.bytes(), 0u);
  EXPECT_EQ(t.count(), 0u);
}

TEST(MemoryTier, ObjectLargerThanAShardIsNotAdmittedAndDropsTheOldVersion) {
  MemoryTier t(16 * 10000, 16);
  put(t, "/a", 100);
  put(t, "/a", 20000);
  EXPECT_FALSE(t.get(key_of("/a")));
  EXPECT_EQ(t.count(), 0u);
  EXPECT_EQ(t.bytes(), 0u);
  EXPECT_EQ(t.stats().inserts, 1u);
}

TEST(MemoryTier, BudgetIsNeverExceeded) {
  const size_t budget = 256 * 1024;
  MemoryTier t(budget, 4);
  std::mt19937 rng(1);
  for (int i = 0; i < 5000; ++i) {
    put(t, "/k" + std::to_string(rng() % 3000), rng() % 8000);
    ASSERT_LE(t.bytes(), budget) << "after put " << i;
  }
  EXPECT_GT(t.stats().evictions, 0u);
}

TEST(MemoryTier, ReaderKeepsEvictedObjectAlive) {
  MemoryTier t(1 << 20);
  put(t, "/a", 1000);
  ObjectRef held = t.get(key_of("/a"));
  t.erase_prefix("");
  EXPECT_EQ(t.count(), 0u);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->body.flatten(), std::string(1000, 'x'));
}

TEST(MemoryTier, ErasePrefix) {
  MemoryTier t(1 << 20);
  for (int i = 0; i < 10; ++i) put(t, "/live/ch1/" + std::to_string(i) + ".ts", 10);
  for (int i = 0; i < 5; ++i) put(t, "/live/ch2/" + std::to_string(i) + ".ts", 10);
  EXPECT_EQ(t.erase_prefix("example.com/live/ch1/"), 10u);
  EXPECT_EQ(t.count(), 5u);
  EXPECT_TRUE(t.get(key_of("/live/ch2/0.ts")));
}

TEST(MemoryTier, HotSetSurvivesAOnePassScan) {
  // ~2700 objects of 1 KB fit. An LRU would keep none of the hot set after a 20000-key scan.
  MemoryTier t(4 << 20, 4);
  const int kHot = 500, kScan = 20000;
  for (int i = 0; i < kHot; ++i) put(t, "/hot/" + std::to_string(i), 1024);
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < kHot; ++i) ASSERT_TRUE(t.get(key_of("/hot/" + std::to_string(i))));
  for (int i = 0; i < kScan; ++i) {
    CacheKey k = key_of("/cold/" + std::to_string(i));
    if (!t.get(k)) t.put(k, make_ref(k.text, std::string(1024, 'c')));
  }
  int retained = 0;
  for (int i = 0; i < kHot; ++i) retained += t.get(key_of("/hot/" + std::to_string(i))) != nullptr;
  EXPECT_GE(retained, kHot * 9 / 10) << "retained " << retained << " of " << kHot;
  EXPECT_LE(t.bytes(), size_t(4 << 20));
}

TEST(MemoryTier, KeyEvictedFromProbationReturnsToMainViaGhost) {
  MemoryTier t(64 * 1024, 1);
  put(t, "/again", 1024);
  // ~48 objects fit: /again is pushed out unread, and recently enough for the ghost to remember.
  for (int i = 0; i < 60; ++i) put(t, "/scan/" + std::to_string(i), 1024);
  ASSERT_FALSE(t.get(key_of("/again")));
  put(t, "/again", 1024);  // remembered by the ghost: admitted straight to main
  for (int i = 200; i < 400; ++i) put(t, "/scan/" + std::to_string(i), 1024);
  EXPECT_TRUE(t.get(key_of("/again")));
}

TEST(MemoryTier, ConcurrentGetPutFromFourThreads) {
  const size_t budget = 512 * 1024;
  MemoryTier t(budget, 8);
  const int kOpsPerThread = 20000;
  std::atomic<uint64_t> gets{0};
  std::vector<std::thread> threads;
  for (int id = 0; id < 4; ++id) {
    threads.emplace_back([&, id] {
      std::mt19937 rng(id);
      for (int i = 0; i < kOpsPerThread; ++i) {
        CacheKey k = key_of("/k" + std::to_string(rng() % 2000));
        if (rng() % 4 == 0) {
          t.put(k, make_ref(k.text, std::string(rng() % 2048, 'x')));
        } else if (ObjectRef o = t.get(k); o) {
          gets.fetch_add(1);
          ASSERT_EQ(o->key_text, k.text);  // never another key's object
        } else {
          gets.fetch_add(1);
        }
        if (i % 5000 == 0) t.erase_prefix("example.com/k1");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(t.bytes(), budget);
  EXPECT_EQ(t.stats().hits + t.stats().misses, gets.load());
  EXPECT_GT(t.stats().hits, 0u);
}

}  // namespace
}  // namespace cdn::cache
