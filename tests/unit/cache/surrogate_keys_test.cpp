#include "common/cache/surrogate_keys.h"

#include <gtest/gtest.h>

#include "common/cache/memory_tier.h"
#include "common/cache/surrogate_index.h"

namespace cdn::cache {
namespace {

using Keys = std::vector<std::string>;

TEST(SurrogateKeys, ReadsBothHeaderSyntaxesInOrderWithoutDuplicates) {
  std::vector<StoredHeader> h = {{"Content-Type", "text/plain"},
                                 {"Surrogate-Key", "  channel/a   event-9\tshow "},
                                 {"cache-tag", "event-9, title-3 ,,vod/x"}};
  EXPECT_EQ(surrogate_keys(h), (Keys{"channel/a", "event-9", "show", "title-3", "vod/x"}));
}

TEST(SurrogateKeys, DropsKeysWithControlBytesOrTooLong) {
  std::vector<StoredHeader> h = {
      {"Cache-Tag", std::string("ok,bad\x01key,") + std::string(300, 'a') + ",with space"}};
  EXPECT_EQ(surrogate_keys(h), (Keys{"ok"}));
  EXPECT_FALSE(valid_surrogate_key(""));
  EXPECT_FALSE(valid_surrogate_key("a b"));
  EXPECT_TRUE(valid_surrogate_key("channel/a"));
}

TEST(SurrogateKeys, KeepsAtMostTheBoundPerObject) {
  std::string many;
  for (int i = 0; i < 200; ++i) many += "k" + std::to_string(i) + " ";
  EXPECT_EQ(surrogate_keys({{"Surrogate-Key", many}}).size(), kMaxSurrogateKeys);
}

TEST(SurrogateIndex, FindsReplacesAndForgetsObjects) {
  SurrogateIndex idx;
  idx.set("h/a", {"x", "y"});
  idx.set("h/b", {"y"});
  auto y = idx.objects_with("y");
  std::sort(y.begin(), y.end());
  EXPECT_EQ(y, (Keys{"h/a", "h/b"}));
  size_t before = idx.bytes();
  idx.set("h/a", {"z"});  // a new version with other keys
  EXPECT_EQ(idx.objects_with("x"), Keys{});
  EXPECT_EQ(idx.objects_with("y"), Keys{"h/b"});
  EXPECT_EQ(idx.objects_with("z"), Keys{"h/a"});
  EXPECT_EQ(idx.keys(), 2u);
  EXPECT_LT(idx.bytes(), before + 64);
  idx.remove("h/a");
  idx.remove("h/b");
  EXPECT_EQ(idx.keys(), 0u);
  EXPECT_EQ(idx.objects(), 0u);
}

}  // namespace
}  // namespace cdn::cache

namespace cdn::cache {
namespace {

TEST(SurrogateIndex, ForgetsWhatTheMemoryTierEvicts) {
  MemoryTier t(64 * 1024, 1);
  SurrogateIndex idx;
  t.set_on_evict([&](std::string_view k) { idx.remove(k); });
  for (int i = 0; i < 200; ++i) {
    auto o = std::make_shared<CachedObject>();
    o->key_text = "h/" + std::to_string(i);
    o->meta.headers = {{"Surrogate-Key", "all"}};
    o->body.append(make_bytes(std::string(2000, 'x')));
    idx.set(o->key_text, surrogate_keys(o->meta.headers));
    t.put(CacheKey{o->key_text, hash64(o->key_text)}, o);
  }
  ASSERT_GT(t.stats().evictions, 0u);
  // Exactly what is still cached stays indexed.
  EXPECT_EQ(idx.objects_with("all").size(), t.count());
  for (const auto& k : idx.objects_with("all")) EXPECT_TRUE(t.get(CacheKey{k, hash64(k)})) << k;
}

}  // namespace
}  // namespace cdn::cache
