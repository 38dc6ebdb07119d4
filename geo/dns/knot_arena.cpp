#include "geo/dns/knot_arena.h"

#include <new>

namespace cdn::geo::dns {
namespace {

constexpr size_t kAlign = alignof(std::max_align_t);

size_t round_up(size_t n) {
  return (n + kAlign - 1) & ~(kAlign - 1);
}

}  // namespace

KnotArena::KnotArena(size_t block_size) : block_size_(round_up(block_size)) {
  mm_.ctx = this;
  mm_.alloc = &KnotArena::alloc;
  mm_.free = &KnotArena::release;
}

void KnotArena::reset() {
  current_ = 0;
  used_ = 0;
}

void* KnotArena::alloc(void* ctx, size_t len) {
  return static_cast<KnotArena*>(ctx)->take(len);
}

void* KnotArena::take(size_t len) {
  len = round_up(len == 0 ? 1 : len);
  // The current block, else the next kept block with room, else a new one.
  while (current_ < blocks_.size() && used_ + len > blocks_[current_].size) {
    ++current_;
    used_ = 0;
  }
  if (current_ == blocks_.size()) {
    size_t size = len > block_size_ ? len : block_size_;
    Block b{std::unique_ptr<uint8_t[]>(new (std::nothrow) uint8_t[size]), size};
    if (!b.data) return nullptr;
    try {
      blocks_.push_back(std::move(b));
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
    used_ = 0;
  }
  void* p = blocks_[current_].data.get() + used_;
  used_ += len;
  return p;
}

}  // namespace cdn::geo::dns
