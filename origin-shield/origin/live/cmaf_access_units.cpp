#include "origin-shield/origin/live/cmaf_access_units.h"

#include <cstring>

#include "origin-shield/origin/live/audio_header.h"
#include "origin-shield/origin/live/ts_packet.h"

namespace cdn::live {
namespace {

constexpr unsigned kH264Sps = 7, kH264Pps = 8, kH264Aud = 9;
constexpr unsigned kHevcVps = 32, kHevcSps = 33, kHevcPps = 34, kHevcAud = 35;

void put_u32(std::string& out, uint32_t v) {
  out.push_back(char(v >> 24));
  out.push_back(char(v >> 16));
  out.push_back(char(v >> 8));
  out.push_back(char(v));
}

// Where the next 00 00 01 start code at or after `from` begins, or npos. Looks for the 01 byte
// with memchr (rare in coded slice data), then checks the two zeros before it.
size_t next_start_code(std::string_view es, size_t from) {
  const char* base = es.data();
  size_t i = from + 2;
  while (i < es.size()) {
    const void* hit = std::memchr(base + i, 1, es.size() - i);
    if (!hit) return std::string_view::npos;
    const size_t at = size_t(static_cast<const char*>(hit) - base);
    if (es[at - 1] == 0 && es[at - 2] == 0) return at - 2;
    i = at + 1;
  }
  return std::string_view::npos;
}

// Calls fn(nal) for each NAL unit of an Annex B byte stream (trailing zero bytes trimmed).
template <typename Fn>
void for_each_nal(std::string_view es, Fn&& fn) {
  size_t at = next_start_code(es, 0);
  while (at != std::string_view::npos) {
    const size_t start = at + 3;
    const size_t next = next_start_code(es, start);
    size_t end = next == std::string_view::npos ? es.size() : next;
    while (end > start && es[end - 1] == 0) --end;
    if (end > start) fn(es.substr(start, end - start));
    at = next;
  }
}

}  // namespace

AccessUnitReader::AccessUnitReader(Sink sink) : sink_(std::move(sink)), demuxer_(*this) {}

void AccessUnitReader::feed(std::string_view ts_bytes) {
  demuxer_.feed(ts_bytes);
}

void AccessUnitReader::flush(bool input_complete) {
  const uint64_t truncated = demuxer_.stats().truncated_bytes;
  demuxer_.flush();
  if (input_complete && demuxer_.stats().truncated_bytes == truncated) finish_video();
  if (video_.active) ++stats_.dropped_units;
  video_.active = false;
  finish_audio();
}

void AccessUnitReader::on_program(const PmtInfo& pmt, std::string_view, std::string_view) {
  finish_video();
  finish_audio();
  video_pid_ = audio_pid_ = 0xFFFF;
  for (const EsInfo& es : pmt.streams) {
    if (es.kind == StreamKind::kVideo && video_pid_ == 0xFFFF &&
        (es.codec == Codec::kH264 || es.codec == Codec::kHevc)) {
      video_pid_ = es.pid;
      if (video_codec_ != es.codec) tracks_.video.reset();
      video_codec_ = es.codec;
    } else if (es.kind == StreamKind::kAudio && audio_pid_ == 0xFFFF && es.codec == Codec::kAac) {
      audio_pid_ = es.pid;
    }
  }
  if (audio_pid_ == 0xFFFF) tracks_.audio.reset();
  if (video_pid_ == 0xFFFF) tracks_.video.reset();
}

void AccessUnitReader::on_splice(const SpliceInfo& info, std::string_view section) {
  if (!splice_sink_) return;
  std::optional<int64_t> placed;
  if (info.pts_time) placed = demuxer_.place_timestamp(*info.pts_time);
  splice_sink_(info, section, placed);
}

void AccessUnitReader::on_pes_start(const PesStart& pes) {
  Pending* p = nullptr;
  if (pes.pid == video_pid_) {
    finish_video();
    p = &video_;
  } else if (pes.pid == audio_pid_) {
    finish_audio();
    p = &audio_;
  } else {
    return;
  }
  if (!pes.has_pts) {
    ++stats_.dropped_units;
    return;
  }
  p->active = true;
  p->keyframe = false;
  p->pts = pes.pts;
  p->dts = pes.dts;
  p->es.clear();
  skip_pes_header_ = true;
}

void AccessUnitReader::on_video_access_unit(uint16_t pid, bool keyframe, bool) {
  if (pid == video_pid_ && video_.active) video_.keyframe = keyframe;
}

void AccessUnitReader::on_packet(const uint8_t* packet, PacketRole role) {
  if (role != PacketRole::kVideo && role != PacketRole::kAudio) return;
  TsHeader h;
  if (!decode_ts_header(packet, h) || !h.has_payload || h.transport_error) return;
  Pending* p = h.pid == video_pid_ ? &video_ : h.pid == audio_pid_ ? &audio_ : nullptr;
  if (!p || !p->active) return;
  const uint8_t* payload = packet + h.payload_offset;
  size_t size = kTsPacketSize - h.payload_offset;
  if (h.payload_unit_start) {
    // The demuxer checked the PES header fits in this packet before reporting its start.
    if (!skip_pes_header_ || size < 9) return;
    const size_t header = 9 + size_t(payload[8]);
    if (header > size) return;
    payload += header;
    size -= header;
    skip_pes_header_ = false;
  }
  p->es.append(reinterpret_cast<const char*>(payload), size);
}

void AccessUnitReader::learn_parameter_set(unsigned type, std::string_view nal) {
  if (!tracks_.video) {
    tracks_.video.emplace();
    tracks_.video->codec = video_codec_;
  }
  fmp4::VideoTrack& v = *tracks_.video;
  const bool hevc = video_codec_ == Codec::kHevc;
  if (type == (hevc ? kHevcSps : kH264Sps)) {
    if (v.sps != nal) {
      v.sps.assign(nal);
      const auto* b = reinterpret_cast<const uint8_t*>(nal.data());
      auto params = hevc ? parse_hevc_sps(b, nal.size()) : parse_h264_sps(b, nal.size());
      if (params) {
        v.width = params->width;
        v.height = params->height;
      }
    }
  } else if (type == (hevc ? kHevcPps : kH264Pps)) {
    v.pps.assign(nal);
  } else if (hevc && type == kHevcVps) {
    v.vps.assign(nal);
  }
}

void AccessUnitReader::finish_video() {
  if (!video_.active) return;
  video_.active = false;
  const bool hevc = video_codec_ == Codec::kHevc;
  AccessUnit au;
  au.video = true;
  au.keyframe = video_.keyframe;
  au.pts = video_.pts;
  au.dts = video_.dts;
  au.data.reserve(video_.es.size() + 16);
  for_each_nal(video_.es, [&](std::string_view nal) {
    const unsigned type = hevc ? (uint8_t(nal[0]) >> 1) & 0x3F : uint8_t(nal[0]) & 0x1F;
    if (hevc ? (type == kHevcVps || type == kHevcSps || type == kHevcPps)
             : (type == kH264Sps || type == kH264Pps)) {
      learn_parameter_set(type, nal);
      return;
    }
    if (type == (hevc ? kHevcAud : kH264Aud)) return;
    put_u32(au.data, uint32_t(nal.size()));
    au.data.append(nal);
  });
  const fmp4::VideoTrack* v = tracks_.video ? &*tracks_.video : nullptr;
  const bool ready = v && !v->sps.empty() && !v->pps.empty() && (!hevc || !v->vps.empty());
  if (au.data.empty() || !ready) {
    ++stats_.dropped_units;
    return;
  }
  ++stats_.video_units;
  sink_(std::move(au));
}

void AccessUnitReader::finish_audio() {
  if (!audio_.active) return;
  audio_.active = false;
  const std::string& es = audio_.es;
  size_t pos = 0;
  int64_t frame = 0;
  while (pos + 7 <= es.size()) {
    const auto* p = reinterpret_cast<const uint8_t*>(es.data() + pos);
    auto params = parse_adts(p, es.size() - pos);
    const size_t header = (p[1] & 1) ? 7 : 9;  // protection_absent
    const size_t length = (size_t(p[3] & 3) << 11) | (size_t(p[4]) << 3) | (p[5] >> 5);
    if (!params || length <= header || pos + length > es.size()) break;
    if (!tracks_.audio || tracks_.audio->sample_rate != params->sample_rate ||
        tracks_.audio->channels != params->channels) {
      const int object_type = ((p[2] >> 6) & 3) + 1;
      const int rate_index = (p[2] >> 2) & 0x0F;
      const int channels = ((p[2] & 1) << 2) | (p[3] >> 6);
      tracks_.audio.emplace();
      tracks_.audio->sample_rate = params->sample_rate;
      tracks_.audio->channels = params->channels;
      const uint16_t asc = uint16_t(object_type << 11 | rate_index << 7 | channels << 3);
      tracks_.audio->audio_specific_config = {char(asc >> 8), char(asc & 0xFF)};
    }
    AccessUnit au;
    au.video = false;
    const int64_t offset = frame * 1024 * kTimestampHz / params->sample_rate;
    au.pts = audio_.pts + offset;
    au.dts = audio_.dts + offset;
    au.data.assign(es, pos + header, length - header);
    ++stats_.audio_frames;
    sink_(std::move(au));
    pos += length;
    ++frame;
  }
  stats_.bad_audio_bytes += es.size() - pos;
}

}  // namespace cdn::live
