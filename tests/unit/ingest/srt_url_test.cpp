#include "origin-shield/origin/ingest/srt_url.h"

#include <gtest/gtest.h>

using cdn::origin::ingest::parse_srt_url;

TEST(SrtUrl, AddressAndParameters) {
  auto u = parse_srt_url(
      "srt://encoder.example:9000?streamid=%23!%3A%3Ar%3Dcam1&passphrase=0123456789&latency=250ms");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->address.host, "encoder.example");
  EXPECT_EQ(u->address.port, 9000);
  EXPECT_EQ(u->streamid, "#!::r=cam1");
  EXPECT_EQ(u->passphrase, "0123456789");
  EXPECT_EQ(u->latency_ms, 250);
  EXPECT_EQ(u->text, "srt://encoder.example:9000");  // what logs show: no passphrase
  auto bare = parse_srt_url("srt://[::1]:9000");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->address.host, "::1");
  EXPECT_FALSE(bare->latency_ms);
  // Queries are read by http::QueryParams: empty pairs are not parameters.
  auto loose = parse_srt_url("srt://1.2.3.4:9000?&streamid=a+b&&latency=1s&");
  ASSERT_TRUE(loose) << loose.error().message;
  EXPECT_EQ(loose->streamid, "a b");
  EXPECT_EQ(loose->latency_ms, 1000);
}

TEST(SrtUrl, Refusals) {
  EXPECT_FALSE(parse_srt_url("udp://1.2.3.4:9000"));
  EXPECT_FALSE(parse_srt_url("srt://1.2.3.4"));
  EXPECT_FALSE(parse_srt_url("srt://1.2.3.4:9000?passphrase=short"));
  EXPECT_FALSE(parse_srt_url("srt://1.2.3.4:9000?latency=5ms"));
  EXPECT_FALSE(parse_srt_url("srt://1.2.3.4:9000?mode=listener"));
  EXPECT_FALSE(parse_srt_url("srt://1.2.3.4:9000?streamid=%zz"));
}
