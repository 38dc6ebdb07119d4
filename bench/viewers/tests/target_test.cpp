#include "bench/viewers/target.h"

#include <gtest/gtest.h>

namespace cdn::viewers {
namespace {

TEST(Target, RelativeUriResolvesAgainstThePlaylistDirectory) {
  EXPECT_EQ(resolve_target("/live/demo/master.m3u8?token=t", "720p/index.m3u8"),
            "/live/demo/720p/index.m3u8");
  EXPECT_EQ(resolve_target("/live/demo/720p/index.m3u8", "41.ts"), "/live/demo/720p/41.ts");
  EXPECT_EQ(resolve_target("/live/demo/720p/index.m3u8", "../audio/1.ts"), "/live/demo/audio/1.ts");
  EXPECT_EQ(resolve_target("/live/demo/720p/index.m3u8", "./1.ts?token=a"),
            "/live/demo/720p/1.ts?token=a");
}

TEST(Target, AbsoluteUrisKeepTheirPath) {
  EXPECT_EQ(resolve_target("/live/demo/master.m3u8", "/vod/x/index.m3u8"), "/vod/x/index.m3u8");
  EXPECT_EQ(resolve_target("/a/b.m3u8", "https://edge.test:8443/live/d/1.ts?token=q"),
            "/live/d/1.ts?token=q");
}

TEST(Target, TokenIsAddedOnce) {
  EXPECT_EQ(with_param("/a/1.ts", "token", "T"), "/a/1.ts?token=T");
  EXPECT_EQ(with_param("/a/1.ts?x=1", "token", "T"), "/a/1.ts?x=1&token=T");
  EXPECT_EQ(with_param("/a/1.ts?token=U", "token", "T"), "/a/1.ts?token=U");
  EXPECT_EQ(with_param("/a/1.ts?mytoken=U", "token", "T"), "/a/1.ts?mytoken=U&token=T");
}

}  // namespace
}  // namespace cdn::viewers
