#include "origin-shield/origin/ingest/flv_media.h"

namespace cdn::origin::ingest {

namespace {

constexpr std::string_view kStartCode("\0\0\0\1", 4);
constexpr std::string_view kAvcAud("\0\0\0\1\x09\xF0", 6);
constexpr std::string_view kHevcAud("\0\0\0\1\x46\x01\x50", 7);

uint32_t be(std::string_view s, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | uint8_t(s[at + i]);
  return v;
}

int nal_type(EsCodec c, uint8_t first) {
  return c == EsCodec::H264 ? (first & 0x1F) : ((first >> 1) & 0x3F);
}

bool is_param_set(EsCodec c, int type) {
  return c == EsCodec::H264 ? (type == 7 || type == 8) : (type >= 32 && type <= 34);
}

bool is_aud(EsCodec c, int type) {
  return c == EsCodec::H264 ? type == 9 : type == 35;
}

// Appends `count` 16-bit-length-prefixed NAL units at `pos` as Annex B; false if truncated.
bool copy_param_sets(std::string_view rec, size_t& pos, size_t count, std::string& out) {
  for (size_t i = 0; i < count; ++i) {
    if (pos + 2 > rec.size()) return false;
    size_t len = be(rec, pos, 2);
    pos += 2;
    if (pos + len > rec.size()) return false;
    out += kStartCode;
    out.append(rec.substr(pos, len));
    pos += len;
  }
  return true;
}

int32_t sign24(uint32_t v) {
  return int32_t(v << 8) >> 8;
}

}  // namespace

const char* FlvMedia::video(uint32_t timestamp, std::string_view tag, AccessUnit& out) {
  out = AccessUnit{};
  if (tag.empty()) return "bad-flv-tag";
  const uint8_t b0 = uint8_t(tag[0]);
  if (b0 & 0x80) {  // Enhanced RTMP: [1|frame type:3|packet type:4] FourCC
    const int frame_type = (b0 >> 4) & 7, packet_type = b0 & 0x0F;
    if (tag.size() < 5) return "bad-flv-tag";
    if (tag.substr(1, 4) != "hvc1") return "unsupported-codec";
    if (frame_type == 5) return nullptr;  // command frame
    std::string_view body = tag.substr(5);
    switch (packet_type) {
      case 0:  // SequenceStart
        return video_config(EsCodec::Hevc, body);
      case 1:  // CodedFrames, with a composition time
        if (body.size() < 3) return "bad-flv-tag";
        return video_frame(EsCodec::Hevc, frame_type == 1, timestamp, sign24(be(body, 0, 3)),
                           body.substr(3), out);
      case 3:  // CodedFramesX: composition time 0
        return video_frame(EsCodec::Hevc, frame_type == 1, timestamp, 0, body, out);
      default:  // SequenceEnd, Metadata, MPEG2TSSequenceStart
        return nullptr;
    }
  }
  const int frame_type = b0 >> 4, codec_id = b0 & 0x0F;
  if (codec_id != 7) return "unsupported-codec";
  if (frame_type == 5) return nullptr;
  if (tag.size() < 5) return "bad-flv-tag";
  const uint8_t packet_type = uint8_t(tag[1]);
  if (packet_type == 0) return video_config(EsCodec::H264, tag.substr(5));
  if (packet_type != 1) return nullptr;  // end of sequence
  return video_frame(EsCodec::H264, frame_type == 1, timestamp, sign24(be(tag, 2, 3)),
                     tag.substr(5), out);
}

const char* FlvMedia::video_config(EsCodec codec, std::string_view rec) {
  std::string sets;
  if (codec == EsCodec::H264) {
    // AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1)
    if (rec.size() < 7 || rec[0] != 1) return "bad-flv-tag";
    nal_length_size_ = (uint8_t(rec[4]) & 3) + 1;
    size_t pos = 6;
    if (!copy_param_sets(rec, pos, uint8_t(rec[5]) & 0x1F, sets)) return "bad-flv-tag";
    if (pos >= rec.size()) return "bad-flv-tag";
    size_t pps = uint8_t(rec[pos++]);
    if (!copy_param_sets(rec, pos, pps, sets)) return "bad-flv-tag";
  } else {
    // HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1): 22 fixed bytes, then arrays.
    if (rec.size() < 23 || rec[0] != 1) return "bad-flv-tag";
    nal_length_size_ = (uint8_t(rec[21]) & 3) + 1;
    size_t arrays = uint8_t(rec[22]), pos = 23;
    for (size_t a = 0; a < arrays; ++a) {
      if (pos + 3 > rec.size()) return "bad-flv-tag";
      size_t count = be(rec, pos + 1, 2);
      pos += 3;
      if (!copy_param_sets(rec, pos, count, sets)) return "bad-flv-tag";
    }
  }
  if (nal_length_size_ == 3) return "bad-flv-tag";  // not allowed by 14496-15
  video_codec_ = codec;
  param_sets_ = std::move(sets);
  return nullptr;
}

const char* FlvMedia::video_frame(EsCodec codec, bool keyframe, int64_t dts, int32_t cts,
                                  std::string_view nalus, AccessUnit& out) {
  if (codec != video_codec_) return nullptr;  // frames before their sequence header: undecodable
  std::string body;
  bool has_params = false;
  for (size_t pos = 0; pos < nalus.size();) {
    if (pos + size_t(nal_length_size_) > nalus.size()) return "bad-flv-tag";
    size_t len = be(nalus, pos, nal_length_size_);
    pos += nal_length_size_;
    if (len == 0 || len > nalus.size() - pos) return "bad-flv-tag";
    const int type = nal_type(codec, uint8_t(nalus[pos]));
    if (!is_aud(codec, type)) {
      has_params |= is_param_set(codec, type);
      body += kStartCode;
      body.append(nalus.substr(pos, len));
    }
    pos += len;
  }
  if (body.empty()) return nullptr;
  out.codec = codec;
  out.keyframe = keyframe;
  out.dts_ms = dts;
  out.pts_ms = dts + cts;
  out.data = codec == EsCodec::H264 ? kAvcAud : kHevcAud;
  if (keyframe && !has_params) out.data += param_sets_;
  out.data += body;
  return nullptr;
}

const char* FlvMedia::audio(uint32_t timestamp, std::string_view tag, AccessUnit& out) {
  out = AccessUnit{};
  if (tag.empty()) return "bad-flv-tag";
  if ((uint8_t(tag[0]) >> 4) != 10) return "unsupported-codec";  // SoundFormat 10 = AAC
  if (tag.size() < 2) return "bad-flv-tag";
  std::string_view body = tag.substr(2);
  if (tag[1] == 0) {  // AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1)
    if (body.size() < 2) return "bad-flv-tag";
    const uint8_t object = uint8_t(body[0]) >> 3;
    const uint8_t rate = ((uint8_t(body[0]) & 7) << 1) | (uint8_t(body[1]) >> 7);
    const uint8_t channels = (uint8_t(body[1]) >> 3) & 0x0F;
    // ADTS can express only object types 1-4 and the indexed rates.
    if (object < 1 || object > 4 || rate > 12 || channels > 7) return "unsupported-codec";
    adts_profile_ = object - 1;
    adts_rate_index_ = rate;
    adts_channels_ = channels;
    aac_ready_ = true;
    return nullptr;
  }
  if (!aac_ready_ || body.empty()) return nullptr;
  const size_t len = body.size() + 7;
  if (len > 0x1FFF) return "bad-flv-tag";
  out.codec = EsCodec::Aac;
  out.keyframe = true;
  out.dts_ms = out.pts_ms = timestamp;
  out.data.reserve(len);
  const uint8_t adts[7] = {
      0xFF,
      0xF1,  // MPEG-4, layer 0, no CRC
      uint8_t((adts_profile_ << 6) | (adts_rate_index_ << 2) | (adts_channels_ >> 2)),
      uint8_t(((adts_channels_ & 3) << 6) | (len >> 11)),
      uint8_t((len >> 3) & 0xFF),
      uint8_t(((len & 7) << 5) | 0x1F),
      0xFC,  // buffer fullness 0x7FF (VBR), one raw data block
  };
  out.data.append(reinterpret_cast<const char*>(adts), 7);
  out.data.append(body);
  return nullptr;
}

}  // namespace cdn::origin::ingest
