#include "common/cache/key.h"

#include <gtest/gtest.h>

namespace cdn::cache {
namespace {

TEST(CacheKey, LowercasesHostKeepsPathCase) {
  auto k = make_key("Video.EXAMPLE.com", "/Live/Ch1/index.m3u8", "", {});
  EXPECT_EQ(k.text, "video.example.com/Live/Ch1/index.m3u8");
  EXPECT_EQ(k.hash, hash64(k.text));
}

TEST(CacheKey, SortsParamsByNameStably) {
  auto k = make_key("h", "/p", "b=2&a=1&b=1&c", {});
  EXPECT_EQ(k.text, "h/p?a=1&b=2&b=1&c");
  EXPECT_EQ(make_key("h", "/p", "a=1&b=2", {}).text, make_key("h", "/p", "b=2&a=1", {}).text);
}

TEST(CacheKey, DropsEmptyAndExcludedParams) {
  std::vector<std::string> excluded = {"token", "session"};
  auto k = make_key("h", "/seg.ts", "&token=abc&&x=1&session&tokens=keep&", excluded);
  EXPECT_EQ(k.text, "h/seg.ts?tokens=keep&x=1");
}

TEST(CacheKey, NoQuestionMarkWhenQueryEmptyAfterFiltering) {
  EXPECT_EQ(make_key("h", "/a", "token=1", {"token"}).text, "h/a");
  EXPECT_EQ(make_key("h", "/a", "", {"token"}).text, "h/a");
  EXPECT_EQ(make_key("h", "/a", "&&", {}).text, "h/a");
}

TEST(CacheKey, ExclusionIsExactNameMatch) {
  EXPECT_EQ(make_key("h", "/a", "Token=1&tok=2", {"token"}).text, "h/a?Token=1&tok=2");
}

TEST(CacheKey, SeededHashDiffersBySeed) {
  EXPECT_NE(hash64_seeded("key", 1), hash64_seeded("key", 2));
  EXPECT_EQ(hash64_seeded("key", 7), hash64_seeded("key", 7));
  EXPECT_NE(hash64("a"), hash64("b"));
}

}  // namespace
}  // namespace cdn::cache
