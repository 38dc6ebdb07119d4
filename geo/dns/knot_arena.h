#pragma once
// A bump allocator behind libknot's knot_mm_t for the objects of one query (the parsed packet,
// the response packet, its records and OPT): reset() releases them all at once before the next
// query, and the blocks are kept, so a steady load makes no malloc/free calls for them. One per
// thread; not thread-safe.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "geo/dns/knot.h"

namespace cdn::geo::dns {

class KnotArena {
 public:
  explicit KnotArena(size_t block_size = 16 * 1024);
  KnotArena(const KnotArena&) = delete;
  KnotArena& operator=(const KnotArena&) = delete;

  knot_mm_t* mm() { return &mm_; }
  // Forgets every allocation; the memory stays for the next query.
  void reset();
  // Blocks held (each at least block_size; a larger request gets a block of its own size).
  size_t blocks() const { return blocks_.size(); }

 private:
  struct Block {
    std::unique_ptr<uint8_t[]> data;
    size_t size;
  };
  // knot_mm_t's callbacks: called from C, so they never throw (null when out of memory).
  static void* alloc(void* ctx, size_t len);
  static void release(void*) {}  // freed with the whole arena at reset()
  void* take(size_t len);

  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;  // the block being filled
  size_t used_ = 0;     // bytes of it handed out
  knot_mm_t mm_;
};

}  // namespace cdn::geo::dns
