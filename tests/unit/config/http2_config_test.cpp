// The http2 section (issue 13): defaults by tier, every key read, bad values named by file:line.
#include <gtest/gtest.h>

#include "common/config/server_config.h"

namespace cdn::config {
namespace {

Result<ServerConfig> parse(const std::string& tier, const std::string& extra) {
  std::string yaml = "tier: " + tier + "\nlisten: [{address: 127.0.0.1:8080}]\n";
  yaml += "upstream: {servers: [{address: 127.0.0.1:8081}]}\n";
  return parse_server_config(yaml + extra, "t.yaml");
}

TEST(Http2Config, OnForTheEdgeOnlyByDefault) {
  auto edge = parse("edge", "");
  ASSERT_TRUE(edge.ok()) << edge.error().message;
  EXPECT_TRUE(http2_enabled(edge->http2, edge->tier));
  EXPECT_FALSE(edge->http2.h2c);
  EXPECT_EQ(edge->http2.max_concurrent_streams, 100u);
  auto shield = parse("shield", "");
  ASSERT_TRUE(shield.ok()) << shield.error().message;
  EXPECT_FALSE(http2_enabled(shield->http2, shield->tier));
  auto on = parse("shield", "http2: {enabled: true}\n");
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_TRUE(http2_enabled(on->http2, on->tier));
}

TEST(Http2Config, ReadsEveryKey) {
  auto r = parse(
      "edge",
      "http2: {enabled: false, h2c: true, max_concurrent_streams: 10, header_table_bytes: 1KiB,\n"
      "        max_header_list_bytes: 4KiB, max_continuations: 2, max_resets: 5,\n"
      "        max_control_frames: 6, max_empty_data: 7, flood_interval: 10s,\n"
      "        stream_window_bytes: 64KiB}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Http2Config& h = r->http2;
  EXPECT_FALSE(http2_enabled(h, r->tier));
  EXPECT_TRUE(h.h2c);
  EXPECT_EQ(h.max_concurrent_streams, 10u);
  EXPECT_EQ(h.header_table_bytes, 1024u);
  EXPECT_EQ(h.max_header_list_bytes, 4096u);
  EXPECT_EQ(h.max_continuations, 2u);
  EXPECT_EQ(h.max_resets, 5u);
  EXPECT_EQ(h.max_control_frames, 6u);
  EXPECT_EQ(h.max_empty_data, 7u);
  EXPECT_EQ(h.flood_interval_ms, 10'000);
  EXPECT_EQ(h.stream_window_bytes, 65536u);
}

TEST(Http2Config, BadValuesNameFileAndLine) {
  for (const char* bad :
       {"http2: {max_concurrent_streams: 0}\n", "http2: {max_header_list_bytes: 10}\n",
        "http2: {flood_interval: 0s}\n", "http2: {nope: 1}\n",
        "http2: {stream_window_bytes: 1KiB}\n"}) {
    auto r = parse("edge", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("t.yaml:4: http2."), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace cdn::config
