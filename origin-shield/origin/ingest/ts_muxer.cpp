#include "origin-shield/origin/ingest/ts_muxer.h"

#include <cstring>

#include "origin-shield/origin/live/crc32.h"

namespace cdn::origin::ingest {

namespace {

constexpr size_t kPacket = 188;
// FLV timestamps start at 0; the offset keeps PTS ahead of DTS (B-frames) and of a PCR that
// players expect to lead the first DTS.
constexpr int64_t kOffsetMs = 1000;
constexpr uint64_t kMask33 = (uint64_t(1) << 33) - 1;

void put_ts(std::string& out, uint8_t prefix, uint64_t t) {
  out.push_back(char(prefix | ((t >> 29) & 0x0E) | 1));
  out.push_back(char((t >> 22) & 0xFF));
  out.push_back(char(((t >> 14) & 0xFE) | 1));
  out.push_back(char((t >> 7) & 0xFF));
  out.push_back(char(((t << 1) & 0xFE) | 1));
}

// A PSI section (header fields from table_id to last_section_number, then the body) with its CRC,
// in one TS packet with pointer field 0.
void psi_packet(uint16_t pid, uint8_t& cc, const std::string& section_no_crc, std::string& out) {
  std::string sec = section_no_crc;
  uint32_t crc = live::crc32_mpeg2(reinterpret_cast<const uint8_t*>(sec.data()), sec.size());
  for (int i = 3; i >= 0; --i) sec.push_back(char((crc >> (8 * i)) & 0xFF));
  char pkt[kPacket];
  std::memset(pkt, 0xFF, sizeof pkt);
  pkt[0] = 0x47;
  pkt[1] = char(0x40 | (pid >> 8));
  pkt[2] = char(pid & 0xFF);
  pkt[3] = char(0x10 | (cc++ & 0x0F));
  pkt[4] = 0;  // pointer field
  std::memcpy(pkt + 5, sec.data(), sec.size());
  out.append(pkt, sizeof pkt);
}

std::string section_header(uint8_t table_id, uint16_t id, uint8_t version, size_t body_len) {
  const size_t length = 5 + body_len + 4;  // after the length field: header rest, body, CRC
  std::string s;
  s.push_back(char(table_id));
  s.push_back(char(0xB0 | ((length >> 8) & 0x0F)));
  s.push_back(char(length & 0xFF));
  s.push_back(char(id >> 8));
  s.push_back(char(id & 0xFF));
  s.push_back(char(0xC1 | ((version & 0x1F) << 1)));  // current
  s.push_back(0);                                     // section_number
  s.push_back(0);                                     // last_section_number
  return s;
}

}  // namespace

uint8_t& TsMuxer::cc(uint16_t pid) {
  return pid == kVideoPid ? cc_video_ : cc_audio_;
}

void TsMuxer::write_psi(std::string& out) {
  std::string pat_body("\x00\x01", 2);  // program 1
  pat_body.push_back(char(0xE0 | (kPmtPid >> 8)));
  pat_body.push_back(char(kPmtPid & 0xFF));
  psi_packet(0, cc_pat_, section_header(0x00, 1, 0, pat_body.size()) + pat_body, out);

  const uint16_t pcr_pid = video_ != EsCodec::None ? kVideoPid : kAudioPid;
  std::string body;
  body.push_back(char(0xE0 | (pcr_pid >> 8)));
  body.push_back(char(pcr_pid & 0xFF));
  body += std::string("\xF0\x00", 2);  // program_info_length 0
  auto add = [&](uint8_t type, uint16_t pid) {
    body.push_back(char(type));
    body.push_back(char(0xE0 | (pid >> 8)));
    body.push_back(char(pid & 0xFF));
    body += std::string("\xF0\x00", 2);
  };
  if (video_ != EsCodec::None) add(video_ == EsCodec::H264 ? 0x1B : 0x24, kVideoPid);
  if (audio_) add(0x0F, kAudioPid);
  psi_packet(kPmtPid, cc_pmt_, section_header(0x02, 1, pmt_version_, body.size()) + body, out);
  psi_written_ = true;
}

void TsMuxer::write(const AccessUnit& au, EsCodec video, bool audio, std::string& out) {
  if (au.codec == EsCodec::None) return;
  const bool is_video = au.codec != EsCodec::Aac;
  if (video != video_ || audio != audio_) {
    if (psi_written_) pmt_version_ = (pmt_version_ + 1) & 0x1F;
    video_ = video;
    audio_ = audio;
    psi_written_ = false;
  }
  if (!psi_written_ || (is_video && au.keyframe)) write_psi(out);

  const uint64_t dts = uint64_t((au.dts_ms + kOffsetMs) * 90) & kMask33;
  const uint64_t pts = uint64_t((std::max<int64_t>(au.pts_ms, 0) + kOffsetMs) * 90) & kMask33;
  const bool with_dts = is_video && dts != pts;
  pes_.clear();
  pes_ += std::string_view("\0\0\1", 3);
  pes_.push_back(char(is_video ? 0xE0 : 0xC0));
  const size_t header_data = with_dts ? 10 : 5;
  const size_t pes_len = 3 + header_data + au.data.size();
  // Video may leave the length 0 (unbounded); audio frames are always small enough.
  const size_t len_field = (is_video && pes_len > 0xFFFF) ? 0 : pes_len;
  pes_.push_back(char((len_field >> 8) & 0xFF));
  pes_.push_back(char(len_field & 0xFF));
  pes_.push_back(char(0x80));  // marker bits, no scrambling
  pes_.push_back(char(with_dts ? 0xC0 : 0x80));
  pes_.push_back(char(header_data));
  put_ts(pes_, with_dts ? 0x30 : 0x20, pts);
  if (with_dts) put_ts(pes_, 0x10, dts);
  pes_ += au.data;
  const bool pcr = is_video || video_ == EsCodec::None;
  packetize(is_video ? kVideoPid : kAudioPid, pes_, au.keyframe && is_video, pcr, dts, out);
}

void TsMuxer::packetize(uint16_t pid, const std::string& pes, bool random_access, bool pcr,
                        uint64_t pcr_base, std::string& out) {
  size_t off = 0;
  bool first = true;
  while (off < pes.size()) {
    const size_t remaining = pes.size() - off;
    uint8_t af[kPacket];
    size_t af_n = 0;
    bool has_af = false;
    if (first && (random_access || pcr)) {
      has_af = true;
      af[af_n++] = uint8_t((random_access ? 0x40 : 0) | (pcr ? 0x10 : 0));
      if (pcr) {
        af[af_n++] = uint8_t(pcr_base >> 25);
        af[af_n++] = uint8_t(pcr_base >> 17);
        af[af_n++] = uint8_t(pcr_base >> 9);
        af[af_n++] = uint8_t(pcr_base >> 1);
        af[af_n++] = uint8_t(((pcr_base & 1) << 7) | 0x7E);  // reserved bits, extension 0
        af[af_n++] = 0;
      }
    }
    size_t room = 184 - (has_af ? 1 + af_n : 0);
    if (remaining < room) {  // the last packet: stuff the adaptation field
      if (!has_af) {
        has_af = true;
        room = 183;
        if (remaining < room) {
          af[af_n++] = 0;  // flags
          --room;
        }
      }
      while (remaining < room) {
        af[af_n++] = 0xFF;
        --room;
      }
    }
    out.push_back(0x47);
    out.push_back(char((first ? 0x40 : 0) | (pid >> 8)));
    out.push_back(char(pid & 0xFF));
    out.push_back(char((has_af ? 0x30 : 0x10) | (cc(pid)++ & 0x0F)));
    if (has_af) {
      out.push_back(char(af_n));
      out.append(reinterpret_cast<const char*>(af), af_n);
    }
    out.append(pes, off, room);
    off += room;
    first = false;
  }
}

}  // namespace cdn::origin::ingest
