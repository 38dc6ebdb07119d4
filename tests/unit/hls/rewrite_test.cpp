#include <gtest/gtest.h>

#include "common/hls/rewrite.h"

namespace cdn::hls {
namespace {

TEST(RewriteUris, UriLinesGetQuerySeparatorRight) {
  EXPECT_EQ(rewrite_uris("#EXTINF:2,\na.ts\n", "t=1"), "#EXTINF:2,\na.ts?t=1\n");
  EXPECT_EQ(rewrite_uris("a.ts?x=1\n", "t=1"), "a.ts?x=1&t=1\n");
  EXPECT_EQ(rewrite_uris("a.ts?\n", "t=1"), "a.ts?t=1\n");
  EXPECT_EQ(rewrite_uris("a.ts?x=1&\n", "t=1"), "a.ts?x=1&t=1\n");
  EXPECT_EQ(rewrite_uris("a.ts#frag\n", "t=1"), "a.ts?t=1#frag\n");
  EXPECT_EQ(rewrite_uris("a.ts?x#frag?y\n", "t=1"), "a.ts?x&t=1#frag?y\n");
  EXPECT_EQ(rewrite_uris("https://h/a.ts\n", "?t=1"), "https://h/a.ts?t=1\n");
  EXPECT_EQ(rewrite_uris("a.ts", "&t=1"), "a.ts?t=1") << "no final newline";
}

TEST(RewriteUris, PreservesLineEndingsAndBlanks) {
  EXPECT_EQ(rewrite_uris("#EXTM3U\r\n\r\na.ts \r\n", "t=1"), "#EXTM3U\r\n\r\na.ts?t=1 \r\n");
  EXPECT_EQ(rewrite_uris("  a.ts\n", "t=1"), "  a.ts?t=1\n");
}

TEST(RewriteUris, LeavesTagsAndCommentsAlone) {
  std::string in =
      "#EXTM3U\n#EXTINF:2,URI=\"x\"\n# comment URI=\"y\"\n"
      "#EXT-X-DATERANGE:ID=\"1\",START-DATE=\"2026-01-01T00:00:00Z\",X-URI=\"z\"\n";
  EXPECT_EQ(rewrite_uris(in, "t=1"), in);
}

TEST(RewriteUris, RewritesUriAttributes) {
  EXPECT_EQ(rewrite_uris("#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"10@0\"\n", "t=1"),
            "#EXT-X-MAP:URI=\"init.mp4?t=1\",BYTERANGE=\"10@0\"\n");
  EXPECT_EQ(rewrite_uris("#EXT-X-KEY:METHOD=AES-128,URI=\"k?id=2\",IV=0x1\n", "t=1"),
            "#EXT-X-KEY:METHOD=AES-128,URI=\"k?id=2&t=1\",IV=0x1\n");
  EXPECT_EQ(rewrite_uris("#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"URI=x, y\",URI=\"a.m3u8\"\n", "t=1"),
            "#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"URI=x, y\",URI=\"a.m3u8?t=1\"\n");
  EXPECT_EQ(rewrite_uris("#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=\"if.m3u8#x\"\n", "t=1"),
            "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=\"if.m3u8?t=1#x\"\n");
}

TEST(RewriteUris, SkipsForeignSchemes) {
  EXPECT_EQ(rewrite_uris("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key1\"\n", "t=1"),
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key1\"\n");
  EXPECT_EQ(rewrite_uris("data:text/plain,a\n", "t=1"), "data:text/plain,a\n");
  EXPECT_EQ(rewrite_uris("HTTPS://h/a.ts\n", "t=1"), "HTTPS://h/a.ts?t=1\n");
}

TEST(RewriteUris, EmptyQueryIsIdentity) {
  EXPECT_EQ(rewrite_uris("a.ts\n", ""), "a.ts\n");
  EXPECT_EQ(rewrite_uris("a.ts\n", "?"), "a.ts\n");
  EXPECT_EQ(rewrite_uris("", "t=1"), "");
}

}  // namespace
}  // namespace cdn::hls
