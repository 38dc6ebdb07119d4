#include "origin-shield/origin/live/ts_demuxer.h"

#include <gtest/gtest.h>

#include <random>

#include "origin-shield/origin/live/segmenter.h"
#include "tests/unit/live/media_fixture.h"
#include "tests/unit/live/segment_checks.h"
#include "tests/unit/live/ts_builder.h"

namespace cdn::live {
namespace {

using namespace testing;

class Counting : public TsDemuxer::Listener {
 public:
  int programs = 0, keyframes = 0, frames = 0, packets = 0;
  void on_program(const PmtInfo&, std::string_view, std::string_view) override { ++programs; }
  void on_pes_start(const PesStart&) override {}
  void on_video_access_unit(uint16_t, bool key, bool) override {
    ++frames;
    keyframes += key;
  }
  void on_splice(const SpliceInfo&, std::string_view) override {}
  void on_packet(const uint8_t*, PacketRole) override { ++packets; }
};

std::string clip10() {
  const std::string& path = clip_path(Clip::kH264Aac10s);
  return path.empty() ? "" : read_file(path);
}

TEST(TsDemuxer, FindsEveryFrameAndKeyframe) {
  std::string ts = clip10();
  if (ts.empty()) GTEST_SKIP();
  Counting c;
  TsDemuxer d(c);
  d.feed(ts);
  d.flush();
  EXPECT_EQ(c.programs, 1);
  EXPECT_EQ(c.frames, 250);
  EXPECT_EQ(c.keyframes, 5);
  EXPECT_EQ(size_t(c.packets), ts.size() / kTsPacketSize);
  EXPECT_EQ(d.stats().cc_errors, 0u);
  EXPECT_EQ(d.stats().sync_losses, 0u);
  ASSERT_TRUE(d.program());
  EXPECT_EQ(d.program()->streams.size(), 2u);
}

TEST(TsDemuxer, CountsLostPacketsAndResyncs) {
  std::string ts = clip10();
  if (ts.empty()) GTEST_SKIP();
  // Drop one video packet in the middle of a PES and put 5 junk bytes somewhere else.
  auto headers = packet_headers(ts);
  size_t drop = 0;
  for (size_t i = 400; i < headers.size(); ++i)
    if (headers[i].pid == 0x100 && !headers[i].pusi) {
      drop = i;
      break;
    }
  std::string damaged = ts;
  damaged.erase(drop * kTsPacketSize, kTsPacketSize);
  damaged.insert(700 * kTsPacketSize, "\x01\x02\x03\x04\x05");
  Counting c;
  TsDemuxer d(c);
  d.feed(damaged);
  d.flush();
  EXPECT_EQ(d.stats().cc_errors, 1u);
  EXPECT_EQ(d.stats().sync_losses, 1u);
  EXPECT_EQ(d.stats().skipped_bytes, 5u);
  EXPECT_EQ(size_t(c.packets), headers.size() - 1);
  EXPECT_EQ(c.keyframes, 5);
}

TEST(TsDemuxer, CorruptedStreamsNeverCrash) {
  std::string ts = clip10();
  if (ts.empty()) GTEST_SKIP();
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::string bad = ts.substr(0, ts.size() / 3);
    const int flips = 1 + int(rng() % 200);
    for (int i = 0; i < flips; ++i) bad[rng() % bad.size()] = char(rng());
    if (round % 4 == 0) bad.erase(rng() % bad.size(), rng() % 1000);
    std::vector<Segment> segs;
    SegmenterConfig cfg;
    cfg.max_segment_bytes = 1 << 20;
    Segmenter s(cfg, [&](Segment&& seg) { segs.push_back(std::move(seg)); });
    s.feed(bad);
    s.flush();
    for (auto& seg : segs) {
      EXPECT_EQ(seg.data.size() % kTsPacketSize, 0u);
      EXPECT_GE(seg.duration_s, 0);
    }
  }
}

TEST(TsDemuxer, ProgramChangeIsADiscontinuity) {
  std::string ts = clip10();
  if (ts.empty()) GTEST_SKIP();
  // Second half re-announces the program with PMT version 1 and the same PIDs.
  const std::string pmt_v1 = make_pmt_section(1, 0x100, {{0x1B, 0x100}, {0x0F, 0x101}}, 1);
  std::string out;
  uint8_t cc = 0;
  const size_t half = ts.size() / kTsPacketSize / 2;
  for (size_t i = 0; i * kTsPacketSize < ts.size(); ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(ts.data() + i * kTsPacketSize);
    const uint16_t pid = uint16_t((p[1] & 0x1F) << 8 | p[2]);
    if (pid == 0x1000 && i > half) packetize_section(0x1000, pmt_v1, cc, out);
    else out.append(ts, i * kTsPacketSize, kTsPacketSize);
  }
  std::vector<Segment> segs = segment_all(out);
  int disc = 0;
  for (auto& seg : segs) {
    disc += seg.discontinuity;
    expect_well_formed(seg);
  }
  EXPECT_EQ(disc, 1);
}

}  // namespace
}  // namespace cdn::live
