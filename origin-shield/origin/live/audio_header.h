#pragma once
// The first frame header of an audio PES tells codec string, sample rate and channels.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace cdn::live {

struct AudioParams {
  int sample_rate = 0;
  int channels = 0;
  std::string codec_string;  // mp4a.40.<object type>, ac-3
};

std::optional<AudioParams> parse_adts(const uint8_t* p, size_t n);
std::optional<AudioParams> parse_ac3(const uint8_t* p, size_t n);

}  // namespace cdn::live
