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

// Apple's LL-HLS example media playlist (RFC 8216bis, "Low-Latency HLS" appendix): parts, a
// preload hint, rendition reports that point at other renditions' blocking endpoints, the MAP.
constexpr std::string_view kLowLatencyPlaylist =
    "#EXTM3U\n"
    "#EXT-X-TARGETDURATION:4\n"
    "#EXT-X-VERSION:6\n"
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=12.0\n"
    "#EXT-X-PART-INF:PART-TARGET=0.33334\n"
    "#EXT-X-MEDIA-SEQUENCE:266\n"
    "#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:13:36.106Z\n"
    "#EXT-X-MAP:URI=\"init.mp4\"\n"
    "#EXTINF:4.00008,\n"
    "fileSequence266.mp4\n"
    "#EXTINF:4.00008,\n"
    "fileSequence271.mp4\n"
    "#EXT-X-PART:DURATION=0.33334,URI=\"filePart272.a.mp4\"\n"
    "#EXT-X-PART:DURATION=0.33334,URI=\"filePart272.b.mp4\"\n"
    "#EXTINF:4.00008,\n"
    "fileSequence272.mp4\n"
    "#EXT-X-PART:DURATION=0.33334,URI=\"filePart273.0.mp4\",INDEPENDENT=YES\n"
    "#EXT-X-PART:DURATION=0.33334,URI=\"filePart273.1.mp4\"\n"
    "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"filePart273.2.mp4\"\n"
    "\n"
    "#EXT-X-RENDITION-REPORT:URI=\"../1M/waitForMSN.php\",LAST-MSN=273,LAST-PART=2\n"
    "#EXT-X-RENDITION-REPORT:URI=\"../4M/waitForMSN.php?x=1\",LAST-MSN=273,LAST-PART=1\n";

size_t count(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string_view::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::string erase_all(std::string s, std::string_view what) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) s.erase(at, what.size());
  return s;
}

TEST(RewriteUris, LowLatencyPlaylistCarriesTheTokenOnEveryUriKind) {
  const std::string out = rewrite_uris(kLowLatencyPlaylist, "t=1");
  EXPECT_NE(out.find("#EXT-X-MAP:URI=\"init.mp4?t=1\"\n"), std::string::npos);
  EXPECT_NE(out.find("\nfileSequence272.mp4?t=1\n"), std::string::npos);
  EXPECT_NE(out.find("#EXT-X-PART:DURATION=0.33334,URI=\"filePart273.0.mp4?t=1\",INDEPENDENT=YES\n"),
            std::string::npos);
  EXPECT_NE(out.find("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"filePart273.2.mp4?t=1\"\n"), std::string::npos);
  EXPECT_NE(out.find("#EXT-X-RENDITION-REPORT:URI=\"../1M/waitForMSN.php?t=1\",LAST-MSN=273,LAST-PART=2\n"),
            std::string::npos);
  EXPECT_NE(out.find("URI=\"../4M/waitForMSN.php?x=1&t=1\""), std::string::npos);
  // 1 map + 3 segments + 4 parts + 1 hint + 2 reports, and nothing else changed.
  EXPECT_EQ(count(out, "t=1"), 11u);
  EXPECT_EQ(erase_all(erase_all(out, "?t=1"), "&t=1"), kLowLatencyPlaylist);
}

TEST(RewriteUris, DeltaUpdateAndByteRangeHints) {
  // A delta update (_HLS_skip=YES) and a byte-range preload hint for the MAP: EXT-X-SKIP has no
  // URI; the hint's BYTERANGE attributes stay as they are.
  const std::string in =
      "#EXTM3U\n"
      "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n"
      "#EXT-X-PRELOAD-HINT:TYPE=MAP,URI=\"init2.mp4\",BYTERANGE-START=0,BYTERANGE-LENGTH=700\n"
      "#EXT-X-PART:DURATION=1.0,URI=\"seg9.mp4\",BYTERANGE=\"2000@0\"\n";
  EXPECT_EQ(rewrite_uris(in, "t=1"),
            "#EXTM3U\n"
            "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n"
            "#EXT-X-PRELOAD-HINT:TYPE=MAP,URI=\"init2.mp4?t=1\",BYTERANGE-START=0,BYTERANGE-LENGTH=700\n"
            "#EXT-X-PART:DURATION=1.0,URI=\"seg9.mp4?t=1\",BYTERANGE=\"2000@0\"\n");
}

}  // namespace
}  // namespace cdn::hls
