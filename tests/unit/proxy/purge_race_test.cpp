// A purge that lands while a fill is inserting its object into the memory tier must still win:
// afterwards the cache must not hold the purged copy (issue 8, "purge races").
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "common/cache/memory_tier.h"
#include "common/proxy/fill.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::proxy {
namespace {

cache::CacheKey key_of(const std::string& text) {
  return {text, cache::hash64(text)};
}

// What ProxyCore::purge does for one key: forget (and mark) the fill, then erase the caches.
void purge(InflightTable& inflight, cache::MemoryTier& memory, const cache::CacheKey& key) {
  inflight.purge(key.text, false);
  memory.erase(key);
}

TEST(PurgeRace, PurgeDuringTheInsertRunsAfterItAndErasesIt) {
  cache::MemoryTier memory(1 << 20, 4);
  InflightTable inflight;
  auto key = key_of("h/vod/a.ts");
  auto [fill, created] = inflight.join_or_create(key);
  ASSERT_TRUE(created);
  std::future<void> purged;
  bool inserted = fill->insert_unless_purged([&] {
    // The fill passed its purge check; a purge arrives now, before the object is in memory.
    purged = std::async(std::launch::async, [&] { purge(inflight, memory, key); });
    // The purge must not complete inside the insert: if it did, the put below would bring the
    // purged copy back after the purge erased it. (A bound, not a sleep: the purge is expected
    // to stay blocked for all of it.)
    EXPECT_EQ(purged.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
        << "the purge finished while the fill was inserting";
    memory.put(key, cache::testing::make_ref(key.text, "old copy"));
  });
  EXPECT_TRUE(inserted);
  purged.get();
  EXPECT_TRUE(fill->purged());
  EXPECT_EQ(memory.get(key), nullptr) << "the purged copy survived the purge";
}

TEST(PurgeRace, InsertAfterThePurgeIsSkipped) {
  cache::MemoryTier memory(1 << 20, 4);
  InflightTable inflight;
  auto key = key_of("h/vod/b.ts");
  auto fill = inflight.join_or_create(key).first;
  purge(inflight, memory, key);
  bool inserted = fill->insert_unless_purged(
      [&] { memory.put(key, cache::testing::make_ref(key.text, "old")); });
  EXPECT_FALSE(inserted);
  EXPECT_EQ(memory.get(key), nullptr);
  // Requests after the purge start a fill of their own.
  EXPECT_TRUE(inflight.join_or_create(key).second);
}

TEST(PurgeRace, PrefixPurgeMarksEveryFillUnderIt) {
  InflightTable inflight;
  auto a = inflight.join_or_create(key_of("h/vod/x/1.ts")).first;
  auto b = inflight.join_or_create(key_of("h/vod/x/2.ts")).first;
  auto c = inflight.join_or_create(key_of("h/vod/y/1.ts")).first;
  inflight.purge("h/vod/x/", true);
  EXPECT_TRUE(a->purged());
  EXPECT_TRUE(b->purged());
  EXPECT_FALSE(c->purged());
  EXPECT_EQ(inflight.size(), 1u);
}

}  // namespace
}  // namespace cdn::proxy
