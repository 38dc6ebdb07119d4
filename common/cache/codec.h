#pragma once
// Little-endian fixed-width encoding with bounds-checked reads, for the on-disk object format.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cdn::cache::codec {

inline void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
inline void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
inline void put_u8(std::string& out, uint8_t v) { out.push_back(char(v)); }
inline void put_str(std::string& out, std::string_view s) {
  put_u32(out, uint32_t(s.size()));
  out.append(s);
}

inline uint64_t load_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}
inline uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// A cursor that turns every out-of-bounds read into a sticky failure instead of UB.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return data_.size() - pos_; }

  uint64_t u64() { return need(8) ? load_u64(advance(8)) : 0; }
  uint32_t u32() { return need(4) ? load_u32(advance(4)) : 0; }
  uint8_t u8() { return need(1) ? uint8_t(*advance(1)) : 0; }
  int64_t i64() { return int64_t(u64()); }
  std::string_view bytes(size_t n) { return need(n) ? std::string_view(advance(n), n) : std::string_view(); }
  std::string str() {
    uint32_t n = u32();
    return std::string(bytes(n));
  }

 private:
  bool need(size_t n) {
    if (ok_ && remaining() >= n) return true;
    ok_ = false;
    return false;
  }
  const char* advance(size_t n) {
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace cdn::cache::codec
