#pragma once
// 90 kHz MPEG timestamps are 33 bits and wrap every ~26.5 h. Everything above the demuxer works on
// a 64-bit monotonic timeline: each new value is placed in the 2^33 epoch that puts it nearest to
// the previous one, so a wrap is seamless while a real jump (encoder restart) stays visible.
#include <cstdint>

namespace cdn::live {

inline constexpr int64_t kTimestampHz = 90000;
inline constexpr int64_t kTimestampWrap = int64_t(1) << 33;

class TimestampUnwrapper {
 public:
  int64_t unwrap(uint64_t ts33) {
    int64_t v = peek(ts33);
    last_ = v;
    have_ = true;
    return v;
  }
  // Same placement without moving the reference (for splice times that point ahead).
  int64_t peek(uint64_t ts33) const {
    int64_t ts = int64_t(ts33 & uint64_t(kTimestampWrap - 1));
    if (!have_) return ts;
    // Masking floors in two's complement, so this is the epoch start even for negative last_.
    int64_t base = last_ - (last_ & (kTimestampWrap - 1));
    int64_t v = base + ts;
    if (v - last_ > kTimestampWrap / 2) v -= kTimestampWrap;
    else if (last_ - v > kTimestampWrap / 2) v += kTimestampWrap;
    return v;
  }
  bool has_reference() const { return have_; }

 private:
  int64_t last_ = 0;
  bool have_ = false;
};

}  // namespace cdn::live
