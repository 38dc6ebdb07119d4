#include <gtest/gtest.h>

#include "origin-shield/origin/live/crc32.h"
#include "origin-shield/origin/live/psi.h"
#include "origin-shield/origin/live/ts_packet.h"
#include "tests/unit/live/ts_builder.h"

namespace cdn::live {
namespace {

using testing::make_pat_section;
using testing::make_pmt_section;
using testing::PmtStream;

TEST(Crc32Mpeg2, KnownCheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32_mpeg2(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0x0376E6E7u);
}

TEST(Psi, ParsesHandBuiltPatAndPmt) {
  auto pat = make_pat_section(1, 0x1000);
  auto p = parse_pat(reinterpret_cast<const uint8_t*>(pat.data()), pat.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pmt_pid, 0x1000);
  EXPECT_EQ(p->program_number, 1);
  auto pmt = make_pmt_section(1, 0x100, {{0x1B, 0x100}, {0x0F, 0x101}, {0x86, 0x1F0}, {0x24, 0x102},
                                         {0x81, 0x103}, {0x06, 0x104}},
                              3);
  auto m = parse_pmt(reinterpret_cast<const uint8_t*>(pmt.data()), pmt.size());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version, 3);
  EXPECT_EQ(m->pcr_pid, 0x100);
  ASSERT_EQ(m->streams.size(), 6u);
  EXPECT_EQ(m->streams[0].codec, Codec::kH264);
  EXPECT_EQ(m->streams[1].codec, Codec::kAac);
  EXPECT_EQ(m->streams[2].kind, StreamKind::kScte35);
  EXPECT_EQ(m->streams[3].codec, Codec::kHevc);
  EXPECT_EQ(m->streams[4].codec, Codec::kAc3);
  EXPECT_EQ(m->streams[5].kind, StreamKind::kOther);
}

TEST(SectionAssembler, SpansPacketsAndRejectsBadCrc) {
  std::vector<PmtStream> many;
  for (uint16_t i = 0; i < 60; ++i) many.push_back({0x1B, uint16_t(0x100 + i)});
  std::string pmt = make_pmt_section(1, 0x100, many);
  ASSERT_GT(pmt.size(), 184u);
  std::string ts;
  uint8_t cc = 0;
  packetize_section(0x1000, pmt, cc, ts);
  ASSERT_EQ(ts.size(), 2 * kTsPacketSize);
  EXPECT_EQ(cc, 2);
  SectionAssembler a;
  std::vector<std::string> got;
  auto sink = [&](const uint8_t* s, size_t n) { got.emplace_back(reinterpret_cast<const char*>(s), n); };
  for (size_t off = 0; off < ts.size(); off += kTsPacketSize) {
    TsHeader h;
    auto* p = reinterpret_cast<const uint8_t*>(ts.data() + off);
    ASSERT_TRUE(decode_ts_header(p, h));
    a.push(p + h.payload_offset, kTsPacketSize - h.payload_offset, h.payload_unit_start, sink);
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], pmt);

  std::string bad = pmt;
  bad[20] ^= 1;
  std::string ts2;
  packetize_section(0x1000, bad, cc, ts2);
  for (size_t off = 0; off < ts2.size(); off += kTsPacketSize) {
    TsHeader h;
    auto* p = reinterpret_cast<const uint8_t*>(ts2.data() + off);
    decode_ts_header(p, h);
    a.push(p + h.payload_offset, kTsPacketSize - h.payload_offset, h.payload_unit_start, sink);
  }
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(a.crc_errors(), 1u);
}

TEST(SectionAssembler, SeveralSectionsInOnePacket) {
  std::string a = make_pat_section(1, 0x1000), b = make_pat_section(2, 0x1001);
  std::string payload = std::string(1, '\0') + a + b;
  payload.resize(184, char(0xFF));
  SectionAssembler asm_;
  int n = 0;
  asm_.push(reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), true,
            [&](const uint8_t*, size_t) { ++n; });
  EXPECT_EQ(n, 2);
}

TEST(TsHeader, ReadsAdaptationField) {
  uint8_t p[188] = {0x47, 0x41, 0x00, 0x30, 7, 0x50, 0, 0, 0, 2, 0x80, 0};
  TsHeader h;
  ASSERT_TRUE(decode_ts_header(p, h));
  EXPECT_EQ(h.pid, 0x100);
  EXPECT_TRUE(h.payload_unit_start);
  EXPECT_TRUE(h.random_access);
  EXPECT_TRUE(h.has_pcr);
  EXPECT_EQ(h.pcr_base, 5u);
  EXPECT_EQ(h.payload_offset, 12);
  p[4] = 200;
  EXPECT_FALSE(decode_ts_header(p, h));
}

}  // namespace
}  // namespace cdn::live
