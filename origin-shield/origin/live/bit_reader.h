#pragma once
// Big-endian bit reader for SPS and SCTE-35 fields. Reading past the end yields zeros and sets
// overrun(): callers check once at the end instead of after every field.
#include <cstddef>
#include <cstdint>

namespace cdn::live {

class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint64_t bits(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  uint32_t bit() {
    if (pos_ >= size_ * 8) {
      overrun_ = true;
      return 0;
    }
    uint32_t b = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
    ++pos_;
    return b;
  }
  void skip(size_t n) {
    pos_ += n;
    if (pos_ > size_ * 8) overrun_ = true;
  }
  // Exp-Golomb ue(v); more than 31 leading zeros cannot occur in a valid SPS.
  uint32_t ue() {
    int zeros = 0;
    while (bit() == 0) {
      if (++zeros > 31 || overrun_) {
        overrun_ = true;
        return 0;
      }
    }
    return uint32_t((uint64_t(1) << zeros) - 1 + bits(zeros));
  }
  int32_t se() {
    uint32_t k = ue();
    return (k & 1) ? int32_t((k + 1) / 2) : -int32_t(k / 2);
  }
  size_t bit_position() const { return pos_; }
  size_t bits_left() const { return pos_ >= size_ * 8 ? 0 : size_ * 8 - pos_; }
  bool overrun() const { return overrun_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

}  // namespace cdn::live
