#include "origin-shield/origin/live/ts_demuxer.h"

#include <algorithm>
#include <cstring>

#include "origin-shield/origin/live/audio_header.h"

namespace cdn::live {
namespace {

constexpr uint8_t kNoCc = 0xFF;
// Lookahead that confirms a candidate sync byte after sync was lost: the next packet's sync byte.
constexpr size_t kResyncWindow = kTsPacketSize + 1;

uint64_t read_timestamp(const uint8_t* p) {
  return (uint64_t(p[0] >> 1 & 0x07) << 30) | (uint64_t(p[1]) << 22) |
         (uint64_t(p[2] >> 1) << 15) | (uint64_t(p[3]) << 7) | (p[4] >> 1);
}

// Stream ids whose PES has no optional header (ISO/IEC 13818-1 table 2-21).
bool has_optional_pes_header(uint8_t stream_id) {
  switch (stream_id) {
    case 0xBC: case 0xBE: case 0xBF: case 0xF0: case 0xF1: case 0xF2: case 0xF8: case 0xFF:
      return false;
    default:
      return true;
  }
}

}  // namespace

std::string MediaInfo::codecs() const {
  std::string out = video_codec_string;
  if (!audio_codec_string.empty()) {
    if (!out.empty()) out += ',';
    out += audio_codec_string;
  }
  return out;
}

TsDemuxer::TsDemuxer(Listener& listener) : listener_(listener) {
  cc_.fill(kNoCc);
  role_[kPatPid] = uint8_t(PacketRole::kPat);
  role_[kNullPid] = uint8_t(PacketRole::kNull);
  carry_.reserve(2 * kResyncWindow);
}

DemuxStats TsDemuxer::stats() const {
  DemuxStats s = stats_;
  s.crc_errors = pat_asm_.crc_errors() + pmt_asm_.crc_errors() + scte_asm_.crc_errors();
  return s;
}

void TsDemuxer::feed(std::string_view bytes) {
  auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  // A packet (or a resync window) split across calls is completed in carry_ first. Decisions only
  // depend on stream content, never on where chunks happen to end.
  while (!carry_.empty() && n > 0) {
    const size_t old = carry_.size();
    const size_t take = std::min(n, 2 * kResyncWindow - old);
    carry_.append(reinterpret_cast<const char*>(in), take);
    const size_t used = process(reinterpret_cast<const uint8_t*>(carry_.data()), carry_.size());
    if (used >= old) {
      in += used - old;
      n -= used - old;
      carry_.clear();
      break;
    }
    carry_.erase(0, used);
    in += take;
    n -= take;
  }
  if (carry_.empty() && n > 0) {
    const size_t used = process(in, n);
    carry_.assign(reinterpret_cast<const char*>(in + used), n - used);
  }
}

void TsDemuxer::flush() {
  stats_.truncated_bytes += carry_.size();
  carry_.clear();
  if (scanning_) finish_video_scan();
}

size_t TsDemuxer::process(const uint8_t* p, size_t n) {
  size_t pos = 0;
  while (pos < n) {
    if (in_sync_) {
      if (p[pos] != kTsSyncByte) {
        in_sync_ = false;
        ++stats_.sync_losses;
        continue;
      }
      if (n - pos < kTsPacketSize) break;
      on_packet(p + pos);
      pos += kTsPacketSize;
      continue;
    }
    // Out of sync: accept a 0x47 only when another one follows a packet later.
    if (n - pos < kResyncWindow) break;
    const uint8_t* hit = static_cast<const uint8_t*>(
        std::memchr(p + pos, kTsSyncByte, n - pos - kTsPacketSize));
    if (!hit) {
      stats_.skipped_bytes += n - pos - kTsPacketSize;
      pos = n - kTsPacketSize;
      break;
    }
    const size_t at = size_t(hit - p);
    stats_.skipped_bytes += at - pos;
    pos = at;
    if (p[pos + kTsPacketSize] == kTsSyncByte) {
      in_sync_ = true;
    } else {
      ++stats_.skipped_bytes;
      ++pos;
    }
  }
  return pos;
}

void TsDemuxer::on_packet(const uint8_t* p) {
  ++stats_.packets;
  TsHeader h;
  if (!decode_ts_header(p, h)) {
    ++stats_.invalid_packets;
    listener_.on_packet(p, PacketRole::kOther);
    return;
  }
  const auto role = PacketRole(role_[h.pid]);
  if (h.transport_error) {
    ++stats_.transport_errors;  // the demodulator says the payload is damaged: do not parse it
    listener_.on_packet(p, role);
    return;
  }
  if (h.has_payload && role != PacketRole::kNull) {
    const uint8_t last = cc_[h.pid];
    if (last != kNoCc && h.continuity_counter != ((last + 1) & 0x0F) &&
        h.continuity_counter != last && !h.discontinuity_indicator)
      ++stats_.cc_errors;
    cc_[h.pid] = h.continuity_counter;
  }
  const uint8_t* payload = p + h.payload_offset;
  const size_t size = h.has_payload ? kTsPacketSize - h.payload_offset : 0;
  switch (role) {
    case PacketRole::kPat:
      pat_asm_.push(payload, size, h.payload_unit_start,
                    [this](const uint8_t* s, size_t len) { on_pat_section(s, len); });
      break;
    case PacketRole::kPmt:
      pmt_asm_.push(payload, size, h.payload_unit_start,
                    [this](const uint8_t* s, size_t len) { on_pmt_section(s, len); });
      break;
    case PacketRole::kScte35:
      scte_asm_.push(payload, size, h.payload_unit_start, [this](const uint8_t* s, size_t len) {
        if (auto info = parse_splice_info(s, len))
          listener_.on_splice(*info, std::string_view(reinterpret_cast<const char*>(s), len));
      });
      break;
    case PacketRole::kVideo:
    case PacketRole::kAudio:
      on_pes_packet(p, h, role);
      break;
    default:
      break;
  }
  listener_.on_packet(p, role);
}

void TsDemuxer::on_pat_section(const uint8_t* s, size_t n) {
  std::string_view raw(reinterpret_cast<const char*>(s), n);
  if (raw == pat_section_) return;  // the usual case: the same PAT repeated
  auto pat = parse_pat(s, n);
  if (!pat) return;
  if (pat->pmt_pid == kPatPid || pat->pmt_pid == kNullPid) return;
  if (pat_ && pat_->pmt_pid != pat->pmt_pid) {
    role_[pat_->pmt_pid] = uint8_t(PacketRole::kOther);
    pmt_asm_.reset();
  }
  pmt_section_.clear();  // a changed PAT makes the next PMT a program change, even if identical
  pat_ = pat;
  pat_section_.assign(raw);
  role_[pat->pmt_pid] = uint8_t(PacketRole::kPmt);
}

void TsDemuxer::on_pmt_section(const uint8_t* s, size_t n) {
  std::string_view raw(reinterpret_cast<const char*>(s), n);
  if (raw == pmt_section_) return;
  auto pmt = parse_pmt(s, n);
  if (!pmt || !pat_ || pmt->program_number != pat_->program_number) return;
  if (pmt_) {
    ++stats_.program_changes;
    for (auto& es : pmt_->streams) role_[es.pid] = uint8_t(PacketRole::kOther);
  }
  video_pid_ = audio_pid_ = 0xFFFF;
  bool have_scte = false;
  for (auto& es : pmt->streams) {
    if (es.pid == kPatPid || es.pid == kNullPid || es.pid == pat_->pmt_pid) continue;
    if (es.kind == StreamKind::kVideo && video_pid_ == 0xFFFF) {
      video_pid_ = es.pid;
      role_[es.pid] = uint8_t(PacketRole::kVideo);
      media_.video_codec = es.codec;
    } else if (es.kind == StreamKind::kAudio) {
      role_[es.pid] = uint8_t(PacketRole::kAudio);
      if (audio_pid_ == 0xFFFF) {
        audio_pid_ = es.pid;
        media_.audio_codec = es.codec;
      }
    } else if (es.kind == StreamKind::kScte35 && !have_scte) {
      have_scte = true;
      role_[es.pid] = uint8_t(PacketRole::kScte35);
      scte_asm_.reset();
    }
  }
  if (video_pid_ == 0xFFFF) media_.video_codec = Codec::kUnknown;
  if (audio_pid_ == 0xFFFF) media_.audio_codec = Codec::kUnknown;
  scanning_ = false;
  pmt->pid = pat_->pmt_pid;
  pmt_ = std::move(pmt);
  pmt_section_.assign(raw);
  listener_.on_program(*pmt_, pat_section_, pmt_section_);
}

void TsDemuxer::on_pes_packet(const uint8_t* p, const TsHeader& h, PacketRole role) {
  const uint8_t* payload = p + h.payload_offset;
  size_t size = h.has_payload ? kTsPacketSize - h.payload_offset : 0;
  const bool is_video = role == PacketRole::kVideo;
  if (!h.payload_unit_start) {
    if (is_video && scanning_ && size > 0 && scanner_.feed(payload, size)) finish_video_scan();
    return;
  }
  if (is_video && scanning_) finish_video_scan();  // previous PES ended without a slice
  if (size < 9 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1) {
    ++stats_.pes_errors;
    return;
  }
  PesStart start;
  start.pid = h.pid;
  start.kind = is_video ? StreamKind::kVideo : StreamKind::kAudio;
  start.random_access = h.random_access;
  size_t es_offset = 6;
  if (has_optional_pes_header(payload[3])) {
    const uint8_t flags = payload[7] >> 6;
    const size_t header_len = payload[8];
    es_offset = 9 + header_len;
    if (es_offset > size || ((flags & 2) && header_len < 5) || (flags == 3 && header_len < 10)) {
      ++stats_.pes_errors;  // a header spread over packets: no encoder we ingest does this
      return;
    }
    if (flags & 2) {
      start.has_pts = true;
      start.pts = unwrapper_.unwrap(read_timestamp(payload + 9));
      start.dts = flags == 3 ? unwrapper_.unwrap(read_timestamp(payload + 14)) : start.pts;
    }
  }
  if (is_video && start.has_pts) {
    const int64_t delta = start.dts - last_video_dts_;
    if (has_video_dts_ && delta > 0 && delta < kTimestampHz) media_.frame_ticks = delta;
    last_video_dts_ = start.dts;
    has_video_dts_ = true;
  }
  listener_.on_pes_start(start);
  const uint8_t* es = payload + es_offset;
  const size_t es_size = size - es_offset;
  if (is_video) {
    scanner_.reset(media_.video_codec);
    scanning_ = true;
    if (scanner_.feed(es, es_size)) finish_video_scan();
  } else if (h.pid == audio_pid_ && media_.audio_codec_string.empty()) {
    learn_audio(es, es_size);
  }
}

void TsDemuxer::finish_video_scan() {
  scanning_ = false;
  const bool key = scanner_.done() && scanner_.keyframe();
  if (scanner_.saw_sps()) learn_sps();
  listener_.on_video_access_unit(video_pid_, key, scanner_.saw_sps());
}

void TsDemuxer::learn_sps() {
  const auto& sps = scanner_.sps();
  if (sps == last_sps_) return;
  last_sps_ = sps;
  auto v = media_.video_codec == Codec::kHevc ? parse_hevc_sps(sps.data(), sps.size())
                                               : parse_h264_sps(sps.data(), sps.size());
  if (!v) return;
  media_.width = v->width;
  media_.height = v->height;
  media_.video_codec_string = std::move(v->codec_string);
}

void TsDemuxer::learn_audio(const uint8_t* es, size_t n) {
  auto a = media_.audio_codec == Codec::kAc3 ? parse_ac3(es, n) : parse_adts(es, n);
  if (!a) return;
  media_.sample_rate = a->sample_rate;
  media_.channels = a->channels;
  media_.audio_codec_string = std::move(a->codec_string);
}

}  // namespace cdn::live
