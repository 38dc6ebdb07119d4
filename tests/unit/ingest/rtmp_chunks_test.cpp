#include "origin-shield/origin/ingest/rtmp_chunks.h"

#include <gtest/gtest.h>

#include <vector>

using namespace cdn::origin::ingest;

namespace {

struct Collect {
  std::vector<RtmpMessage> msgs;
  RtmpChunkReader reader{RtmpChunkLimits{},
                         [this](RtmpMessage&& m) { msgs.push_back(std::move(m)); }};
};

std::string set_chunk_size(uint32_t n) {
  std::string out;
  std::string p = {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  rtmp_write_message(out, 2, 1, 0, 0, p, 128);
  return out;
}

}  // namespace

TEST(RtmpChunks, WriterOutputReadsBackAtAnySplit) {
  std::string wire = set_chunk_size(100);
  std::string big(1000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7);
  rtmp_write_message(wire, 6, 9, 1, 40, big, 100);
  rtmp_write_message(wire, 4, 8, 1, 0x1000000, "audio", 100);  // extended timestamp
  for (size_t split = 1; split < wire.size(); split += 37) {
    Collect c;
    ASSERT_EQ(c.reader.feed(std::string_view(wire).substr(0, split)), nullptr);
    ASSERT_EQ(c.reader.feed(std::string_view(wire).substr(split)), nullptr);
    ASSERT_EQ(c.msgs.size(), 2u) << split;
    EXPECT_EQ(c.msgs[0].type, 9);
    EXPECT_EQ(c.msgs[0].stream_id, 1u);
    EXPECT_EQ(c.msgs[0].timestamp, 40u);
    EXPECT_EQ(c.msgs[0].payload, big);
    EXPECT_EQ(c.msgs[1].timestamp, 0x1000000u);
    EXPECT_EQ(c.msgs[1].payload, "audio");
    EXPECT_EQ(c.reader.buffered(), 0u);
  }
}

TEST(RtmpChunks, HeaderTypesOneTwoThreeAccumulateDeltas) {
  // fmt 0 (ts 100, len 2, type 9, stream 1), fmt 1 (delta 10, len 1, type 8), fmt 2 (delta 5),
  // fmt 3 (repeats delta 5); csid 4 throughout.
  std::string wire(
      "\x04\x00\x00\x64\x00\x00\x02\x09\x01\x00\x00\x00"
      "ab",
      14);
  wire += std::string(
      "\x44\x00\x00\x0A\x00\x00\x01\x08"
      "c",
      9);
  wire += std::string(
      "\x84\x00\x00\x05"
      "d",
      5);
  wire += std::string(
      "\xC4"
      "e",
      2);
  Collect c;
  ASSERT_EQ(c.reader.feed(wire), nullptr);
  ASSERT_EQ(c.msgs.size(), 4u);
  EXPECT_EQ(c.msgs[0].timestamp, 100u);
  EXPECT_EQ(c.msgs[1].timestamp, 110u);
  EXPECT_EQ(c.msgs[1].type, 8);
  EXPECT_EQ(c.msgs[1].stream_id, 1u);
  EXPECT_EQ(c.msgs[2].timestamp, 115u);
  EXPECT_EQ(c.msgs[3].timestamp, 120u);
  EXPECT_EQ(c.msgs[3].payload, "e");
}

TEST(RtmpChunks, TwoAndThreeByteChunkStreamIds) {
  std::string wire(
      "\x00\x05\x00\x00\x01\x00\x00\x01\x14\x00\x00\x00\x00"
      "A",
      14);  // csid 69
  wire += std::string(
      "\x01\x00\x01\x00\x00\x02\x00\x00\x01\x14\x00\x00\x00\x00"
      "B",
      15);  // 320
  Collect c;
  ASSERT_EQ(c.reader.feed(wire), nullptr);
  ASSERT_EQ(c.msgs.size(), 2u);
  EXPECT_EQ(c.msgs[0].payload, "A");
  EXPECT_EQ(c.msgs[1].timestamp, 2u);
}

TEST(RtmpChunks, AbortDropsAPartialMessage) {
  std::string wire("\x06\x00\x00\x00\x00\x01\x00\x09\x01\x00\x00\x00", 12);  // 256 bytes due
  wire += std::string(128, 'p');
  wire += std::string("\x02\x00\x00\x00\x00\x00\x04\x02\x00\x00\x00\x00\x00\x00\x00\x06", 16);
  wire += std::string(
      "\x06\x00\x00\x00\x00\x00\x01\x09\x01\x00\x00\x00"
      "q",
      13);
  Collect c;
  ASSERT_EQ(c.reader.feed(wire), nullptr);
  ASSERT_EQ(c.msgs.size(), 1u);
  EXPECT_EQ(c.msgs[0].payload, "q");
}

TEST(RtmpChunks, LimitsAndNonsenseAreErrors) {
  {
    Collect c;  // a message over the limit is refused at its header, before any buffering
    std::string wire("\x04\x00\x00\x00\x7F\xFF\xFF\x09\x01\x00\x00\x00", 12);
    EXPECT_STREQ(c.reader.feed(wire), "rtmp-message-too-large");
  }
  {
    Collect c;
    EXPECT_STREQ(c.reader.feed(set_chunk_size(0x7FFFFFFF)), "rtmp-bad-chunk-size");
  }
  {
    Collect c;  // a continuation on a chunk stream never opened
    EXPECT_STREQ(c.reader.feed(std::string("\xC7"
                                           "x",
                                           2)),
                 "rtmp-bad-chunk");
  }
  {
    Collect c;  // 70 messages left half-sent (chunk size 1), each on a chunk stream of its own
    std::string wire = set_chunk_size(1);
    for (int i = 0; i < 70; ++i)
      wire += std::string("\x00", 1) + char(i) +
              std::string(
                  "\x00\x00\x00\x00\x00\x02\x09\x01\x00\x00\x00"
                  "x",
                  12);
    EXPECT_STREQ(c.reader.feed(wire), "rtmp-too-many-chunk-streams");
  }
}
