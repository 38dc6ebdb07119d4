#include "origin-shield/origin/live/audio_header.h"

namespace cdn::live {

std::optional<AudioParams> parse_adts(const uint8_t* p, size_t n) {
  static constexpr int kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                   22050, 16000, 12000, 11025, 8000,  7350};
  if (n < 7 || p[0] != 0xFF || (p[1] & 0xF6) != 0xF0) return std::nullopt;  // sync, layer 0
  const int object_type = ((p[2] >> 6) & 3) + 1;
  const int rate_index = (p[2] >> 2) & 0x0F;
  if (rate_index >= 13) return std::nullopt;
  AudioParams a;
  a.sample_rate = kRates[rate_index];
  a.channels = ((p[2] & 1) << 2) | (p[3] >> 6);
  a.codec_string = "mp4a.40." + std::to_string(object_type);
  return a;
}

std::optional<AudioParams> parse_ac3(const uint8_t* p, size_t n) {
  static constexpr int kRates[] = {48000, 44100, 32000};
  static constexpr int kChannels[] = {2, 1, 2, 3, 3, 4, 4, 5};
  if (n < 7 || p[0] != 0x0B || p[1] != 0x77) return std::nullopt;
  const int fscod = p[4] >> 6;
  if (fscod == 3 || (p[5] >> 3) > 10) return std::nullopt;  // bsid > 10 is E-AC-3
  AudioParams a;
  a.sample_rate = kRates[fscod];
  a.channels = kChannels[p[6] >> 5];
  a.codec_string = "ac-3";
  return a;
}

}  // namespace cdn::live
