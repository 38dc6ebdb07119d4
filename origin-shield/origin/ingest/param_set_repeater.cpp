#include "origin-shield/origin/ingest/param_set_repeater.h"

#include <algorithm>
#include <cstring>

#include "origin-shield/origin/live/ts_packet.h"

namespace cdn::origin::ingest {

namespace {

using live::Codec;
using live::kTsPacketSize;
using live::kTsSyncByte;

constexpr size_t kMaxPayload = kTsPacketSize - 4;
const std::string_view kStartCode("\0\0\0\1", 4);

enum class NalKind { kOther, kAud, kVps, kSps, kPps, kSlice, kKeySlice };

NalKind kind_of(Codec codec, uint8_t header) {
  if (codec == Codec::kH264) {
    switch (header & 0x1F) {
      case 9:
        return NalKind::kAud;
      case 7:
        return NalKind::kSps;
      case 8:
        return NalKind::kPps;
      case 5:
        return NalKind::kKeySlice;
      case 1:
      case 2:
      case 3:
      case 4:
        return NalKind::kSlice;
      default:
        return NalKind::kOther;
    }
  }
  const uint8_t type = (header >> 1) & 0x3F;
  if (type <= 31) return type >= 16 && type <= 23 ? NalKind::kKeySlice : NalKind::kSlice;
  switch (type) {
    case 35:
      return NalKind::kAud;
    case 32:
      return NalKind::kVps;
    case 33:
      return NalKind::kSps;
    case 34:
      return NalKind::kPps;
    default:
      return NalKind::kOther;
  }
}

// The next "00 00 01" at or after `from`, or npos.
size_t find_start_code(const std::string& s, size_t from) {
  static const std::string_view kSc3("\0\0\1", 3);
  return s.find(kSc3, from);
}

}  // namespace

void ParamSetRepeater::feed(std::string_view bytes, std::string& out) {
  if (!carry_.empty()) {
    const size_t take = std::min(kTsPacketSize - carry_.size(), bytes.size());
    carry_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (carry_.size() < kTsPacketSize) return;
    on_packet(reinterpret_cast<const uint8_t*>(carry_.data()), out);
    carry_.clear();
  }
  while (!bytes.empty()) {
    if (uint8_t(bytes[0]) != kTsSyncByte) {
      // Not a packet boundary: pass the bytes up to the next sync byte on (the segmenter's
      // demuxer counts and skips them), after what is held, to keep the order.
      size_t k = bytes.find(char(kTsSyncByte));
      if (k == std::string_view::npos) k = bytes.size();
      if (holding_) release(out);
      out.append(bytes.substr(0, k));
      bytes.remove_prefix(k);
      continue;
    }
    if (bytes.size() < kTsPacketSize) {
      carry_.assign(bytes);
      return;
    }
    on_packet(reinterpret_cast<const uint8_t*>(bytes.data()), out);
    bytes.remove_prefix(kTsPacketSize);
  }
}

void ParamSetRepeater::flush(std::string& out) {
  if (holding_) release(out);
  out.append(carry_);
  carry_.clear();
}

void ParamSetRepeater::on_packet(const uint8_t* p, std::string& out) {
  live::TsHeader h;
  const bool valid = live::decode_ts_header(p, h) && !h.transport_error;
  if (valid && h.has_payload && (h.pid == live::kPatPid || h.pid == pmt_pid_)) on_psi(p, h, out);
  const bool video = h.pid == video_pid_;
  if (video && valid && h.has_payload && h.payload_unit_start) {
    if (holding_) {
      ++stats_.given_up;  // the PES ended before a slice showed
      release(out);
    }
    return start_holding(p, h.payload_offset, out);
  }
  if (!holding_) {
    if (video) return emit_video(p, out);
    out.append(reinterpret_cast<const char*>(p), kTsPacketSize);
    return;
  }
  if (video && !valid) {
    release(out);
    return emit_video(p, out);
  }
  if (video) video_at_.push_back(uint32_t(held_.size()));
  held_.append(reinterpret_cast<const char*>(p), kTsPacketSize);
  if (video && h.has_payload) {
    es_.append(reinterpret_cast<const char*>(p) + h.payload_offset,
               kTsPacketSize - h.payload_offset);
    scan(out);
  }
  if (holding_ && held_.size() >= kMaxHeldPackets * kTsPacketSize) {
    ++stats_.given_up;
    release(out);
  }
}

void ParamSetRepeater::on_psi(const uint8_t* p, const live::TsHeader& h, std::string& out) {
  const uint8_t* payload = p + h.payload_offset;
  const size_t n = kTsPacketSize - h.payload_offset;
  if (h.pid == live::kPatPid) {
    pat_asm_.push(payload, n, h.payload_unit_start, [&](const uint8_t* s, size_t size) {
      auto pat = live::parse_pat(s, size);
      if (!pat || pat->pmt_pid == pmt_pid_) return;
      pmt_pid_ = pat->pmt_pid;
      pmt_asm_.reset();
    });
    return;
  }
  pmt_asm_.push(payload, n, h.payload_unit_start, [&](const uint8_t* s, size_t size) {
    auto pmt = live::parse_pmt(s, size);
    if (!pmt) return;
    uint16_t pid = 0xFFFF;
    Codec codec = Codec::kUnknown;
    for (auto& es : pmt->streams) {
      if (es.kind != live::StreamKind::kVideo) continue;
      pid = es.pid;
      codec = es.codec;
      break;
    }
    if (pid == video_pid_ && codec == codec_) return;
    if (holding_) release(out);
    video_pid_ = pid;
    cc_shift_ = 0;
    if (codec != codec_) {  // another encoder's parameter sets would be wrong here
      vps_.clear();
      sps_.clear();
      pps_.clear();
    }
    codec_ = codec;
  });
}

void ParamSetRepeater::start_holding(const uint8_t* p, size_t payload_offset, std::string& out) {
  const uint8_t* pl = p + payload_offset;
  const size_t n = kTsPacketSize - payload_offset;
  // Only a PES whose header fits in its first packet is held (every muxer does that).
  const bool pes = n >= 9 && pl[0] == 0 && pl[1] == 0 && pl[2] == 1 && size_t(9 + pl[8]) <= n;
  if (!pes || (codec_ != Codec::kH264 && codec_ != Codec::kHevc)) return emit_video(p, out);
  holding_ = true;
  held_.assign(reinterpret_cast<const char*>(p), kTsPacketSize);
  video_at_.assign(1, 0);
  es_.assign(reinterpret_cast<const char*>(pl), n);
  es_start_ = scanned_ = 9 + pl[8];
  scan(out);
}

void ParamSetRepeater::scan(std::string& out) {
  for (;;) {
    const size_t j = find_start_code(es_, scanned_);
    if (j == std::string::npos || j + 3 >= es_.size()) {
      // Resume where a start code split across packets can still be found.
      scanned_ = std::max(scanned_, es_.size() >= 3 ? es_.size() - 3 : size_t(0));
      if (j != std::string::npos) scanned_ = j;
      return;
    }
    const NalKind k = kind_of(codec_, uint8_t(es_[j + 3]));
    if (k == NalKind::kSlice || k == NalKind::kKeySlice) {
      const size_t at = j > es_start_ && es_[j - 1] == 0 ? j - 1 : j;
      return on_access_unit(at, k == NalKind::kKeySlice, out);
    }
    scanned_ = j + 3;
  }
}

void ParamSetRepeater::on_access_unit(size_t first_slice, bool keyframe, std::string& out) {
  std::string vps, sps, pps;
  size_t insert_at = es_start_;
  bool first = true;
  size_t j = find_start_code(es_, es_start_);
  while (j != std::string::npos && j < first_slice) {
    const size_t nal = j + 3;
    size_t end = find_start_code(es_, nal);
    if (end == std::string::npos || end > first_slice) end = first_slice;
    const size_t next = end;
    while (end > nal && es_[end - 1] == 0) --end;  // trailing zeros belong to no NAL unit
    const NalKind k = kind_of(codec_, uint8_t(es_[nal]));
    std::string* into = k == NalKind::kVps   ? &vps
                        : k == NalKind::kSps ? &sps
                        : k == NalKind::kPps ? &pps
                                             : nullptr;
    if (into) into->append(kStartCode).append(es_, nal, end - nal);
    if (first && k == NalKind::kAud) insert_at = end;  // the delimiter stays first
    first = false;
    j = next < first_slice ? find_start_code(es_, next) : std::string::npos;
  }
  const std::pair<const std::string*, std::string*> seen[] = {
      {&vps, &vps_}, {&sps, &sps_}, {&pps, &pps_}};
  for (auto [have, stored] : seen)
    if (!have->empty() && have->size() <= kMaxParamSetBytes) *stored = *have;
  if (!keyframe) return release(out);
  ++stats_.keyframes;
  const bool hevc = codec_ == Codec::kHevc;
  if (!sps.empty() && !pps.empty() && (!hevc || !vps.empty())) return release(out);
  if (sps_.empty() || pps_.empty() || (hevc && vps_.empty())) {
    ++stats_.unknown;
    return release(out);
  }
  ++stats_.repeated;
  release(out, insert_at, vps_ + sps_ + pps_);
}

void ParamSetRepeater::release(std::string& out, size_t at, std::string_view insert) {
  holding_ = false;
  if (!insert.empty()) {
    es_.insert(at, insert);
    // PES_packet_length, when set, grows by what was inserted (0, "unbounded", is allowed for
    // video when it no longer fits).
    const size_t len = size_t(uint8_t(es_[4])) << 8 | uint8_t(es_[5]);
    if (len != 0) {
      const size_t grown = len + insert.size();
      es_[4] = char(grown > 0xFFFF ? 0 : grown >> 8);
      es_[5] = char(grown > 0xFFFF ? 0 : grown & 0xFF);
    }
  }
  size_t pos = 0, v = 0;
  for (size_t off = 0; off < held_.size(); off += kTsPacketSize) {
    const auto* p = reinterpret_cast<const uint8_t*>(held_.data() + off);
    if (v >= video_at_.size() || video_at_[v] != off) {
      out.append(reinterpret_cast<const char*>(p), kTsPacketSize);
      continue;
    }
    ++v;
    if (insert.empty()) {
      emit_video(p, out);
      continue;
    }
    live::TsHeader h;
    live::decode_ts_header(p, h);
    const size_t start = out.size();
    emit_video(p, out);
    if (h.has_payload) {
      const size_t cap = kTsPacketSize - h.payload_offset;
      std::memcpy(out.data() + start + h.payload_offset, es_.data() + pos, cap);
      pos += cap;
    }
    if (v == video_at_.size())  // the overflow right after the last held video packet
      for (; pos < es_.size(); pos += kMaxPayload)
        append_stuffed_packet(std::string_view(es_).substr(pos, kMaxPayload), out);
  }
  held_.clear();
  video_at_.clear();
  es_.clear();
}

void ParamSetRepeater::emit_video(const uint8_t* p, std::string& out) {
  const size_t start = out.size();
  out.append(reinterpret_cast<const char*>(p), kTsPacketSize);
  const uint8_t cc = uint8_t((p[3] + cc_shift_) & 0x0F);
  out[start + 3] = char((p[3] & 0xF0) | cc);
  last_video_cc_ = cc;
}

void ParamSetRepeater::append_stuffed_packet(std::string_view payload, std::string& out) {
  ++cc_shift_;
  last_video_cc_ = uint8_t((last_video_cc_ + 1) & 0x0F);
  char pkt[kTsPacketSize];
  pkt[0] = char(kTsSyncByte);
  pkt[1] = char((video_pid_ >> 8) & 0x1F);
  pkt[2] = char(video_pid_ & 0xFF);
  size_t at = 4;
  if (payload.size() < kMaxPayload) {
    pkt[3] = char(0x30 | last_video_cc_);                // adaptation field, then payload
    const size_t af = kMaxPayload - payload.size() - 1;  // adaptation_field_length
    pkt[4] = char(af);
    if (af > 0) {
      pkt[5] = 0;  // no flags
      std::memset(pkt + 6, 0xFF, af - 1);
    }
    at = 5 + af;
  } else {
    pkt[3] = char(0x10 | last_video_cc_);
  }
  std::memcpy(pkt + at, payload.data(), payload.size());
  out.append(pkt, kTsPacketSize);
}

}  // namespace cdn::origin::ingest
