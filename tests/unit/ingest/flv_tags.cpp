#include "tests/unit/ingest/flv_tags.h"

#include "tests/unit/ingest/media_samples.h"

namespace ingest_test {

using ingest_samples::kH264Nals;
using ingest_samples::kHevcNals;

std::string be(uint32_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xFF));
  return s;
}

std::string with_length(const std::string& nal, int length_size) {
  return be(uint32_t(nal.size()), length_size) + nal;
}

std::string avc_sequence_header() {
  const std::string &sps = kH264Nals[0], &pps = kH264Nals[1];
  std::string rec = {1, sps[1], sps[2], sps[3], char(0xFF), char(0xE1)};
  rec += be(uint32_t(sps.size()), 2) + sps + char(1) + be(uint32_t(pps.size()), 2) + pps;
  return std::string("\x17\x00\x00\x00\x00", 5) + rec;
}

std::string avc_frame(bool key, int32_t cts) {
  const std::string slice = key ? kH264Nals[2] : std::string("\x41\x9A\x02\x03\x04", 5);
  return std::string(1, key ? '\x17' : '\x27') + '\x01' + be(uint32_t(cts) & 0xFFFFFF, 3) +
         with_length(slice);
}

std::string hevc_sequence_header() {
  std::string rec(23, '\0');
  rec[0] = 1;
  rec[21] = char(0x0F);  // lengthSizeMinusOne = 3
  rec[22] = 3;           // arrays: VPS, SPS, PPS
  for (int i = 0; i < 3; ++i) {
    const std::string& nal = kHevcNals[size_t(i)];
    rec += char(0x80 | (32 + i));
    rec += be(1, 2) + be(uint32_t(nal.size()), 2) + nal;
  }
  return std::string("\x90hvc1", 5) + rec;  // IsExHeader | keyframe | SequenceStart
}

std::string hevc_frame(bool key, bool with_cts, int32_t cts) {
  const std::string slice = key ? kHevcNals[3] : std::string("\x02\x01\xD0\x01\x02", 5);
  std::string tag(1, char(0x80 | ((key ? 1 : 2) << 4) | (with_cts ? 1 : 3)));
  tag += "hvc1";
  if (with_cts) tag += be(uint32_t(cts) & 0xFFFFFF, 3);
  return tag + with_length(slice);
}

std::string aac_sequence_header() {
  return std::string("\xAF\x00\x12\x10", 4);
}

std::string aac_frame(const std::string& raw) {
  return std::string("\xAF\x01", 2) + raw;
}

Demuxed demux(const std::string& ts) {
  Demuxed d;
  cdn::live::TsDemuxer dm(d);
  dm.feed(ts);
  dm.flush();
  d.stats = dm.stats();
  d.media = dm.media();
  return d;
}

}  // namespace ingest_test
