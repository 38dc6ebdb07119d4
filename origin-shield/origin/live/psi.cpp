#include "origin-shield/origin/live/psi.h"

#include <algorithm>

#include "origin-shield/origin/live/crc32.h"
#include "origin-shield/origin/live/ts_packet.h"

namespace cdn::live {

StreamKind kind_of(Codec c) {
  switch (c) {
    case Codec::kH264:
    case Codec::kHevc:
      return StreamKind::kVideo;
    case Codec::kAac:
    case Codec::kAc3:
      return StreamKind::kAudio;
    case Codec::kScte35:
      return StreamKind::kScte35;
    default:
      return StreamKind::kOther;
  }
}

const char* codec_name(Codec c) {
  switch (c) {
    case Codec::kH264: return "h264";
    case Codec::kHevc: return "hevc";
    case Codec::kAac: return "aac";
    case Codec::kAc3: return "ac3";
    case Codec::kScte35: return "scte35";
    default: return "unknown";
  }
}

namespace {

// Stream type 0x06 (private PES) is AC-3 in DVB streams when a descriptor says so.
Codec codec_for(uint8_t stream_type, const uint8_t* desc, size_t len) {
  switch (stream_type) {
    case 0x1B: return Codec::kH264;
    case 0x24: return Codec::kHevc;
    case 0x0F: return Codec::kAac;
    case 0x81: return Codec::kAc3;
    case 0x86: return Codec::kScte35;
    default: break;
  }
  if (stream_type != 0x06) return Codec::kUnknown;
  for (size_t i = 0; i + 2 <= len;) {
    const uint8_t tag = desc[i], dlen = desc[i + 1];
    if (i + 2 + dlen > len) break;
    if (tag == 0x6A) return Codec::kAc3;
    if (tag == 0x05 && dlen >= 4 && std::equal(desc + i + 2, desc + i + 6, "AC-3"))
      return Codec::kAc3;
    i += 2 + dlen;
  }
  return Codec::kUnknown;
}

size_t section_total(const uint8_t* s) { return 3 + (size_t(s[1] & 0x0F) << 8 | s[2]); }

}  // namespace

std::optional<PatInfo> parse_pat(const uint8_t* s, size_t size) {
  if (size < 12 || s[0] != 0x00 || section_total(s) != size) return std::nullopt;
  if (!(s[5] & 1)) return std::nullopt;  // not yet applicable
  PatInfo pat;
  pat.transport_stream_id = uint16_t(s[3] << 8 | s[4]);
  pat.version = (s[5] >> 1) & 0x1F;
  for (size_t i = 8; i + 4 <= size - 4; i += 4) {
    const uint16_t program = uint16_t(s[i] << 8 | s[i + 1]);
    if (program == 0) continue;  // network information table
    pat.program_number = program;
    pat.pmt_pid = uint16_t((s[i + 2] & 0x1F) << 8 | s[i + 3]);
    return pat;
  }
  return std::nullopt;
}

std::optional<PmtInfo> parse_pmt(const uint8_t* s, size_t size) {
  if (size < 16 || s[0] != 0x02 || section_total(s) != size) return std::nullopt;
  if (!(s[5] & 1)) return std::nullopt;
  PmtInfo pmt;
  pmt.program_number = uint16_t(s[3] << 8 | s[4]);
  pmt.version = (s[5] >> 1) & 0x1F;
  pmt.pcr_pid = uint16_t((s[8] & 0x1F) << 8 | s[9]);
  const size_t info_len = size_t(s[10] & 0x0F) << 8 | s[11];
  const size_t end = size - 4;
  size_t pos = 12 + info_len;
  while (pos + 5 <= end) {
    EsInfo es;
    es.stream_type = s[pos];
    es.pid = uint16_t((s[pos + 1] & 0x1F) << 8 | s[pos + 2]);
    const size_t es_len = size_t(s[pos + 3] & 0x0F) << 8 | s[pos + 4];
    if (pos + 5 + es_len > end) return std::nullopt;
    es.codec = codec_for(es.stream_type, s + pos + 5, es_len);
    es.kind = kind_of(es.codec);
    if (pmt.streams.size() < 64) pmt.streams.push_back(es);
    pos += 5 + es_len;
  }
  return pmt;
}

SectionAssembler::SectionAssembler(size_t max_section_size) : max_(max_section_size) {
  buf_.reserve(max_);
}

size_t SectionAssembler::take(const uint8_t* p, size_t n, bool& done) {
  done = false;
  size_t used = 0;
  if (buf_.size() < 3) {
    used = std::min(n, 3 - buf_.size());
    buf_.insert(buf_.end(), p, p + used);
    if (buf_.size() < 3) return used;
  }
  const size_t total = section_total(buf_.data());
  if (total > max_ || total < 7) {
    reset();
    return n;  // garbage length: skip the rest of this payload
  }
  const size_t more = std::min(n - used, total - buf_.size());
  buf_.insert(buf_.end(), p + used, p + used + more);
  used += more;
  if (buf_.size() == total) {
    if (crc32_mpeg2(buf_.data(), buf_.size()) == 0) {
      done = true;
    } else {
      ++crc_errors_;
      reset();
    }
  }
  return used;
}

void packetize_section(uint16_t pid, const std::string& section, uint8_t& cc, std::string& out) {
  size_t pos = 0;
  bool first = true;
  while (first || pos < section.size()) {
    char pkt[kTsPacketSize];
    pkt[0] = char(kTsSyncByte);
    pkt[1] = char((first ? 0x40 : 0) | (pid >> 8));
    pkt[2] = char(pid & 0xFF);
    pkt[3] = char(0x10 | cc);
    cc = (cc + 1) & 0x0F;
    size_t off = 4;
    if (first) pkt[off++] = 0;  // pointer_field
    const size_t n = std::min(section.size() - pos, kTsPacketSize - off);
    std::copy_n(section.data() + pos, n, pkt + off);
    std::fill(pkt + off + n, pkt + kTsPacketSize, char(0xFF));
    pos += n;
    first = false;
    out.append(pkt, kTsPacketSize);
  }
}

}  // namespace cdn::live
