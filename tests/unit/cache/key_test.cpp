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

TEST(CacheKey, BareNamesAndEmptyNamesAreParamsLikeAnyOther) {
  EXPECT_EQ(make_key("h", "/a", "b&=v&a=", {}).text, "h/a?=v&a=&b");
  EXPECT_NE(make_key("h", "/a", "a", {}).text, make_key("h", "/a", "a=", {}).text);
}

TEST(CacheKey, NoQuestionMarkWhenQueryEmptyAfterFiltering) {
  EXPECT_EQ(make_key("h", "/a", "token=1", {"token"}).text, "h/a");
  EXPECT_EQ(make_key("h", "/a", "", {"token"}).text, "h/a");
  EXPECT_EQ(make_key("h", "/a", "&&", {}).text, "h/a");
}

TEST(CacheKey, ExclusionIsExactNameMatch) {
  EXPECT_EQ(make_key("h", "/a", "Token=1&tok=2", {"token"}).text, "h/a?Token=1&tok=2");
  EXPECT_EQ(make_key("h", "/a", "t%6Fken=1&token=2", {"token"}).text, "h/a?t%6Fken=1");
}

// issue 7: "Host: 127.0.0.1/vod/premium" with path /vod/free/ep1.ts must not land on the key of
// 127.0.0.1 + /vod/premium/vod/free/ep1.ts, whether or not the caller validated the host.
TEST(CacheKey, HostCannotRunIntoThePath) {
  auto victim = make_key("127.0.0.1", "/vod/premium/vod/free/ep1.ts", "", {});
  auto attack = make_key("127.0.0.1/vod/premium", "/vod/free/ep1.ts", "", {});
  EXPECT_EQ(victim.text, "127.0.0.1/vod/premium/vod/free/ep1.ts");
  EXPECT_NE(attack.text, victim.text);
  EXPECT_EQ(attack.text, "127.0.0.1%2Fvod%2Fpremium/vod/free/ep1.ts");
  EXPECT_NE(make_key("h?a", "/b", "", {}).text, make_key("h", "/?a/b", "", {}).text);
  // An escape-looking host cannot pose as the escaped form of another.
  EXPECT_NE(make_key("a%2Fb", "/c", "", {}).text, make_key("a/b", "/c", "", {}).text);
  for (std::string_view h : {std::string_view("h h"), std::string_view("h\0", 2), std::string_view("h\x7f"),
                             std::string_view("h\xff"), std::string_view("h#"), std::string_view("h\r\n")}) {
    std::string text = make_key(h, "/p", "", {}).text;
    EXPECT_EQ(text.find('/'), text.size() - 2) << text;
    for (char c : text) EXPECT_TRUE(c > 0x20 && c < 0x7f) << text;
  }
}

TEST(CacheKey, ValidHostsAreUnchanged) {
  EXPECT_EQ(make_key("[::1]", "/a", "", {}).text, "[::1]/a");
  EXPECT_EQ(make_key("Sub-Delims!$&'()*+,;=.example", "/a", "", {}).text, "sub-delims!$&'()*+,;=.example/a");
  EXPECT_EQ(make_key("127.0.0.1", "/vod/", "", {}).text, "127.0.0.1/vod/");
}

TEST(CacheKey, SeededHashDiffersBySeed) {
  EXPECT_NE(hash64_seeded("key", 1), hash64_seeded("key", 2));
  EXPECT_EQ(hash64_seeded("key", 7), hash64_seeded("key", 7));
  EXPECT_NE(hash64("a"), hash64("b"));
}

}  // namespace
TEST(CacheKey, ServicePrefixComesFirstAndTheImplicitServiceHasNone) {
  // The implicit service keeps the keys stored before services existed.
  EXPECT_EQ(make_key("Example.com", "/a", "b=1", {}).text, "example.com/a?b=1");
  EXPECT_EQ(make_key("Example.com", "/a", "b=1", {}, key_prefix_of("")).text, "example.com/a?b=1");
  CacheKey live = make_key("example.com", "/a", "", {}, key_prefix_of("live"));
  CacheKey vod = make_key("example.com", "/a", "", {}, key_prefix_of("vod"));
  EXPECT_EQ(live.text, "live#example.com/a");
  EXPECT_NE(live.text, vod.text);
  EXPECT_NE(live.hash, vod.hash);
  // No host can make an implicit-service key that starts like a service's: '#' is escaped.
  EXPECT_EQ(make_key("live#example.com", "/a", "", {}).text, "live%23example.com/a");
}

}  // namespace cdn::cache
