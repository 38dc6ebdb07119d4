#include "origin-shield/origin/live/fmp4_box.h"

namespace cdn::live::fmp4 {

void BoxWriter::u16(uint16_t v) {
  u8(uint8_t(v >> 8));
  u8(uint8_t(v));
}

void BoxWriter::u24(uint32_t v) {
  u8(uint8_t(v >> 16));
  u16(uint16_t(v));
}

void BoxWriter::u32(uint32_t v) {
  u16(uint16_t(v >> 16));
  u16(uint16_t(v));
}

void BoxWriter::u64(uint64_t v) {
  u32(uint32_t(v >> 32));
  u32(uint32_t(v));
}

void BoxWriter::open(const char (&type)[5]) {
  open_.push_back(out_.size());
  u32(0);  // size, patched by close()
  fourcc(type);
}

void BoxWriter::open_full(const char (&type)[5], uint8_t version, uint32_t flags) {
  open(type);
  u8(version);
  u24(flags);
}

void BoxWriter::close() {
  const size_t start = open_.back();
  open_.pop_back();
  patch_u32(start, uint32_t(out_.size() - start));
}

void BoxWriter::patch_u32(size_t at, uint32_t v) {
  out_[at] = char(v >> 24);
  out_[at + 1] = char(v >> 16);
  out_[at + 2] = char(v >> 8);
  out_[at + 3] = char(v);
}

}  // namespace cdn::live::fmp4
