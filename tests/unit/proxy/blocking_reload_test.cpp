#include "common/proxy/blocking_reload.h"

#include <gtest/gtest.h>

#include "common/cache/key.h"

namespace cdn::proxy {
namespace {

TEST(BlockingReload, OnlyMsnMakesARequestBlocking) {
  EXPECT_TRUE(is_blocking_reload("_HLS_msn=12"));
  EXPECT_TRUE(is_blocking_reload("token=x&_HLS_msn=12&_HLS_part=3"));
  EXPECT_FALSE(is_blocking_reload("_HLS_skip=YES")) << "a delta update alone is not held";
  EXPECT_FALSE(is_blocking_reload("_HLS_part=3"))
      << "a part without msn is a 400 upstream, not held";
  EXPECT_FALSE(is_blocking_reload("x_HLS_msn=1&_hls_msn=1"));
  EXPECT_FALSE(is_blocking_reload(""));
}

TEST(BlockingReload, WaitIsRaisedOnlyForBlockingRequests) {
  EXPECT_EQ(first_byte_wait_ms("_HLS_msn=1", 10'000, 30'000), 30'000);
  EXPECT_EQ(first_byte_wait_ms("_HLS_msn=1", 40'000, 30'000), 40'000) << "never shorter";
  EXPECT_EQ(first_byte_wait_ms("a=1", 10'000, 30'000), 10'000);
}

TEST(BlockingReload, DirectivesStayInTheKeyWhatEverTheOperatorIgnores) {
  auto excluded = without_hls_directives({"_HLS_msn", "sid", "_HLS_part", "_HLS_skip", "token"});
  EXPECT_EQ(excluded, (std::vector<std::string>{"sid", "token"}));
  auto k = [&](std::string_view q) {
    return cache::make_key("h", "/live/a/index.m3u8", q, excluded).text;
  };
  EXPECT_NE(k("_HLS_msn=5&_HLS_part=1"), k("_HLS_msn=5&_HLS_part=2"));
  EXPECT_NE(k("_HLS_msn=5"), k("_HLS_msn=6"));
  EXPECT_NE(k("_HLS_msn=5&_HLS_skip=YES"), k("_HLS_msn=5"));
  // What a player or the edge adds besides the directives does not split the key; order neither.
  EXPECT_EQ(k("_HLS_part=1&_HLS_msn=5&token=a&sid=1"), k("sid=2&_HLS_msn=5&_HLS_part=1&token=b"));
}

}  // namespace
}  // namespace cdn::proxy
