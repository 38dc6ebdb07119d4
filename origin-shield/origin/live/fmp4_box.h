#pragma once
// ISO BMFF box writer: big-endian fields appended to a string, boxes opened and closed with their
// 32-bit size patched in on close. Only what the CMAF packager writes; no box over 4 GiB.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::live::fmp4 {

class BoxWriter {
 public:
  explicit BoxWriter(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(char(v)); }
  void u16(uint16_t v);
  void u24(uint32_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void zeros(size_t n) { out_.append(n, '\0'); }
  void bytes(std::string_view b) { out_.append(b); }
  void fourcc(const char (&type)[5]) { out_.append(type, 4); }

  void open(const char (&type)[5]);
  // A FullBox: version and 24-bit flags after the type.
  void open_full(const char (&type)[5], uint8_t version, uint32_t flags);
  void close();

  size_t size() const { return out_.size(); }
  // Overwrites a u32 written earlier (trun data offsets are known only once the moof is closed).
  void patch_u32(size_t at, uint32_t v);

 private:
  std::string& out_;
  std::vector<size_t> open_;  // start offsets of the boxes not yet closed
};

}  // namespace cdn::live::fmp4
