#include "origin-shield/origin/live/nal.h"

#include <cstdio>

#include "origin-shield/origin/live/bit_reader.h"

namespace cdn::live {
namespace {

// RBSP = NAL payload without the 0x03 that prevents start-code emulation.
std::vector<uint8_t> to_rbsp(const uint8_t* p, size_t n) {
  std::vector<uint8_t> out;
  out.reserve(n);
  int zeros = 0;
  for (size_t i = 0; i < n; ++i) {
    if (zeros >= 2 && p[i] == 3) {
      zeros = 0;
      continue;
    }
    zeros = p[i] == 0 ? zeros + 1 : 0;
    out.push_back(p[i]);
  }
  return out;
}

void skip_scaling_list(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0) next = (last + r.se() + 256) % 256;
    last = next == 0 ? last : next;
    if (r.overrun()) return;
  }
}

bool high_profile(uint32_t p) {
  switch (p) {
    case 100: case 110: case 122: case 244: case 44: case 83:
    case 86: case 118: case 128: case 138: case 139: case 134: case 135:
      return true;
    default:
      return false;
  }
}

// Frame cropping (H.264) / conformance window (HEVC), in chroma sample units.
struct Crop {
  uint32_t left = 0, right = 0, top = 0, bottom = 0;
};

Crop read_crop_if_present(BitReader& r) {
  Crop c;
  if (r.bit()) {
    c.left = r.ue();
    c.right = r.ue();
    c.top = r.ue();
    c.bottom = r.ue();
  }
  return c;
}

}  // namespace

std::optional<VideoParams> parse_h264_sps(const uint8_t* nal, size_t size) {
  if (size < 4 || (nal[0] & 0x1F) != 7) return std::nullopt;
  auto rbsp = to_rbsp(nal + 1, size - 1);
  BitReader r(rbsp.data(), rbsp.size());
  const uint32_t profile = uint32_t(r.bits(8)), constraints = uint32_t(r.bits(8)),
                 level = uint32_t(r.bits(8));
  r.ue();  // seq_parameter_set_id
  uint32_t chroma = 1;
  if (high_profile(profile)) {
    chroma = r.ue();
    if (chroma == 3) r.bit();  // separate_colour_plane_flag
    r.ue();
    r.ue();    // bit depths
    r.bit();   // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) {  // seq_scaling_matrix_present_flag
      for (int i = 0; i < (chroma != 3 ? 8 : 12); ++i)
        if (r.bit()) skip_scaling_list(r, i < 6 ? 16 : 64);
    }
  }
  r.ue();  // log2_max_frame_num_minus4
  const uint32_t poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();
  } else if (poc_type == 1) {
    r.bit();
    r.se();
    r.se();
    const uint32_t cycle = r.ue();
    if (cycle > 255) return std::nullopt;
    for (uint32_t i = 0; i < cycle; ++i) r.se();
  }
  r.ue();   // max_num_ref_frames
  r.bit();  // gaps_in_frame_num_value_allowed_flag
  const uint32_t width_mbs = r.ue() + 1, height_units = r.ue() + 1;
  const uint32_t frame_mbs_only = r.bit();
  if (!frame_mbs_only) r.bit();
  r.bit();  // direct_8x8_inference_flag
  const Crop crop = read_crop_if_present(r);
  if (r.overrun() || chroma > 3 || width_mbs > 1024 || height_units > 1024) return std::nullopt;
  const uint32_t sub_w = (chroma == 1 || chroma == 2) ? 2 : 1;
  const uint32_t sub_h = chroma == 1 ? 2 : 1;
  const uint32_t unit_x = chroma == 0 ? 1 : sub_w;
  const uint32_t unit_y = (chroma == 0 ? 1 : sub_h) * (2 - frame_mbs_only);
  const int64_t w = int64_t(width_mbs) * 16 - int64_t(unit_x) * (int64_t(crop.left) + crop.right);
  const int64_t h = int64_t(height_units) * 16 * (2 - frame_mbs_only) -
                    int64_t(unit_y) * (int64_t(crop.top) + crop.bottom);
  if (w <= 0 || h <= 0) return std::nullopt;
  VideoParams v;
  v.width = int(w);
  v.height = int(h);
  char buf[32];
  std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", profile & 0xFF, constraints & 0xFF,
                level & 0xFF);
  v.codec_string = buf;
  return v;
}

std::optional<VideoParams> parse_hevc_sps(const uint8_t* nal, size_t size) {
  if (size < 6 || ((nal[0] >> 1) & 0x3F) != 33) return std::nullopt;
  auto rbsp = to_rbsp(nal + 2, size - 2);
  BitReader r(rbsp.data(), rbsp.size());
  r.bits(4);  // sps_video_parameter_set_id
  const uint32_t max_sub_layers_minus1 = uint32_t(r.bits(3));
  r.bit();  // temporal_id_nesting
  // profile_tier_level(1, max_sub_layers_minus1)
  const uint32_t profile_space = uint32_t(r.bits(2)), tier = r.bit(),
                 profile_idc = uint32_t(r.bits(5));
  const uint32_t compat = uint32_t(r.bits(32));
  uint8_t constraint[6];
  for (auto& c : constraint) c = uint8_t(r.bits(8));
  const uint32_t level_idc = uint32_t(r.bits(8));
  bool sub_profile[8] = {}, sub_level[8] = {};
  for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    sub_profile[i] = r.bit();
    sub_level[i] = r.bit();
  }
  if (max_sub_layers_minus1 > 0)
    for (uint32_t i = max_sub_layers_minus1; i < 8; ++i) r.bits(2);
  for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    if (sub_profile[i]) r.skip(88);
    if (sub_level[i]) r.skip(8);
  }
  r.ue();  // sps_seq_parameter_set_id
  const uint32_t chroma = r.ue();
  if (chroma == 3) r.bit();
  const uint32_t w = r.ue(), h = r.ue();
  const Crop crop = read_crop_if_present(r);
  if (r.overrun() || chroma > 3 || w > 16384 || h > 16384) return std::nullopt;
  const uint32_t sub_w = (chroma == 1 || chroma == 2) ? 2 : 1, sub_h = chroma == 1 ? 2 : 1;
  const int64_t width = int64_t(w) - int64_t(sub_w) * (int64_t(crop.left) + crop.right);
  const int64_t height = int64_t(h) - int64_t(sub_h) * (int64_t(crop.top) + crop.bottom);
  if (width <= 0 || height <= 0) return std::nullopt;
  VideoParams v;
  v.width = int(width);
  v.height = int(height);
  uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i) reversed |= ((compat >> i) & 1) << (31 - i);
  char buf[96];
  static const char* kSpace[] = {"", "A", "B", "C"};
  int n = std::snprintf(buf, sizeof buf, "hvc1.%s%u.%X.%c%u", kSpace[profile_space], profile_idc,
                        reversed, tier ? 'H' : 'L', level_idc);
  int last = 5;  // trailing zero constraint bytes are omitted (ISO/IEC 14496-15 Annex E)
  while (last >= 0 && constraint[last] == 0) --last;
  for (int i = 0; i <= last && n > 0 && n < int(sizeof buf); ++i)
    n += std::snprintf(buf + n, sizeof buf - size_t(n), ".%X", constraint[i]);
  v.codec_string = buf;
  return v;
}

void NalScanner::end_sps_capture(size_t start_code_bytes) {
  capturing_sps_ = false;
  sps_.resize(sps_.size() > start_code_bytes ? sps_.size() - start_code_bytes : 0);
}

void NalScanner::on_nal_header(uint8_t b) {
  if (codec_ == Codec::kH264) {
    const int type = b & 0x1F;
    if (type >= 1 && type <= 5) {
      done_ = true;
      keyframe_ = type == 5;
    } else if (type == 7) {
      saw_sps_ = capturing_sps_ = true;
    }
  } else {
    const int type = (b >> 1) & 0x3F;
    if (type <= 31) {
      done_ = true;
      keyframe_ = type >= 16 && type <= 23;
    } else if (type == 33) {
      saw_sps_ = capturing_sps_ = true;
    }
  }
  if (capturing_sps_) {
    sps_.clear();
    sps_.push_back(b);
  }
}

bool NalScanner::feed(const uint8_t* p, size_t n) {
  if (done_) return true;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = p[i];
    if (want_header_) {
      want_header_ = false;
      zeros_ = 0;
      on_nal_header(b);
      if (done_) return true;
      continue;
    }
    if (capturing_sps_) {
      if (sps_.size() < kMaxSpsBytes) sps_.push_back(b);
      else capturing_sps_ = false;  // keep the prefix: width/height sit in the first bytes
    }
    if (b == 0) {
      ++zeros_;
    } else if (b == 1 && zeros_ >= 2) {
      if (capturing_sps_) end_sps_capture(size_t(zeros_ > 3 ? 3 : zeros_) + 1);
      want_header_ = true;
      zeros_ = 0;
    } else {
      zeros_ = 0;
    }
  }
  scanned_ += n;
  if (scanned_ > kMaxScanBytes) done_ = true;
  return done_;
}

}  // namespace cdn::live
