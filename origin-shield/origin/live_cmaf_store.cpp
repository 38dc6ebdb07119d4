#include "origin-shield/origin/live_cmaf_store.h"

#include <cmath>
#include <cstdio>
#include <vector>

namespace cdn::origin {

namespace {

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += char(uint8_t(v >> (8 * i)));
}

void put_field(std::string& out, std::string_view f) {
  put_u64(out, f.size());
  out.append(f);
}

// Reads fields back; any overrun makes ok false.
struct Fields {
  std::string_view in;
  bool ok = true;
  uint64_t u64() {
    if (in.size() < 8) return ok = false, 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(in[i])) << (8 * i);
    in.remove_prefix(8);
    return v;
  }
  std::string_view field() {
    const uint64_t n = u64();
    if (!ok || n > in.size()) return ok = false, std::string_view();
    std::string_view f = in.substr(0, n);
    in.remove_prefix(n);
    return f;
  }
  Bytes bytes() {
    std::string_view f = field();
    return ok && !f.empty() ? make_bytes(f) : nullptr;
  }
};

std::string_view view(const Bytes& b) {
  return b ? std::string_view(*b) : std::string_view();
}

}  // namespace

std::string cmaf_key(char kind, std::string_view channel, std::string_view rendition,
                     std::optional<uint64_t> number) {
  std::string k = std::string("f") + kind + "/";
  k.append(channel).append("/").append(rendition);
  if (number) {
    char buf[24];
    snprintf(buf, sizeof buf, "/%020llu", static_cast<unsigned long long>(*number));
    k += buf;
  }
  return k;
}

CmafStoredSegment stored_segment(live::CmafSegment&& s) {
  return {std::move(s.data), std::move(s.video), std::move(s.audio),     s.first_dts,
          s.duration_ticks,  s.audio_first_dts,  s.audio_duration_ticks, s.init_id,
          std::move(s.cues)};
}

std::string encode_cmaf_init(const live::CmafInit& init) {
  std::string out;
  put_u64(out, init.id);
  for (const Bytes* b : {&init.muxed, &init.video, &init.audio}) put_field(out, view(*b));
  return out;
}

std::optional<live::CmafInit> decode_cmaf_init(std::string_view v) {
  Fields f{v};
  live::CmafInit init;
  init.id = f.u64();
  init.muxed = f.bytes();
  init.video = f.bytes();
  init.audio = f.bytes();
  if (!f.ok || !f.in.empty() || !init.muxed) return std::nullopt;
  return init;
}

std::string encode_cmaf_segment(const CmafStoredSegment& s) {
  std::string out;
  for (int64_t n : {s.t, s.d, s.audio_t, s.audio_d, int64_t(s.init_id)}) put_u64(out, uint64_t(n));
  for (const Bytes* b : {&s.muxed, &s.video, &s.audio}) put_field(out, view(*b));
  put_u64(out, s.cues.size());
  for (const live::Cue& c : s.cues) {
    put_u64(out, uint64_t(c.direction));
    put_u64(out, c.event_id);
    put_u64(out, uint64_t(c.pts));
    put_u64(out, c.duration_s ? uint64_t(std::llround(*c.duration_s * 1000)) + 1 : 0);
    put_field(out, c.section);
  }
  return out;
}

std::optional<CmafStoredSegment> decode_cmaf_segment(std::string_view v) {
  Fields f{v};
  CmafStoredSegment s;
  s.t = int64_t(f.u64());
  s.d = int64_t(f.u64());
  s.audio_t = int64_t(f.u64());
  s.audio_d = int64_t(f.u64());
  s.init_id = f.u64();
  s.muxed = f.bytes();
  s.video = f.bytes();
  s.audio = f.bytes();
  const uint64_t cues = f.u64();
  for (uint64_t i = 0; f.ok && i < cues && i < 64; ++i) {
    live::Cue c;
    const uint64_t dir = f.u64();
    c.direction = dir == uint64_t(live::SpliceDirection::kIn) ? live::SpliceDirection::kIn
                                                              : live::SpliceDirection::kOut;
    c.event_id = uint32_t(f.u64());
    c.pts = int64_t(f.u64());
    const uint64_t ms = f.u64();
    if (ms > 0) c.duration_s = double(ms - 1) / 1000;
    c.section = std::string(f.field());
    s.cues.push_back(std::move(c));
  }
  if (!f.ok || !f.in.empty() || !s.muxed || s.d <= 0) return std::nullopt;
  return s;
}

std::string encode_cmaf_state(const CmafStoredState& s) {
  std::string out;
  put_u64(out, uint64_t(s.media_zero_ms));
  put_field(out, s.playlist);
  return out;
}

std::optional<CmafStoredState> decode_cmaf_state(std::string_view v) {
  Fields f{v};
  CmafStoredState s;
  s.media_zero_ms = int64_t(f.u64());
  s.playlist = std::string(f.field());
  if (!f.ok || !f.in.empty()) return std::nullopt;
  return s;
}

}  // namespace cdn::origin
