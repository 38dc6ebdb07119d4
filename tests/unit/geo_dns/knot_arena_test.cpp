// The per-thread arena behind libknot's knot_mm_t: aligned, reused after reset() (no new blocks
// for the same work), a request larger than a block gets one of its own, and libknot's own
// allocations (a packet parsed and a record built through the mm) live in it.
#include "geo/dns/knot_arena.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

namespace cdn::geo::dns {
namespace {

void* take(KnotArena& a, size_t n) {
  return a.mm()->alloc(a.mm()->ctx, n);
}

TEST(KnotArena, AlignedDistinctAndWritable) {
  KnotArena a(1024);
  std::set<void*> seen;
  for (size_t n : {1, 7, 16, 33, 200, 500}) {
    void* p = take(a, n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t), 0u);
    std::memset(p, 0xAB, n);
    EXPECT_TRUE(seen.insert(p).second);
  }
}

TEST(KnotArena, ResetReusesTheBlocks) {
  KnotArena a(1024);
  auto work = [&] {
    for (int i = 0; i < 40; ++i) take(a, 100);  // about 4 blocks
    take(a, 5000);                              // larger than a block: one of its own
  };
  work();
  size_t blocks = a.blocks();
  EXPECT_GE(blocks, 5u);
  void* first = nullptr;
  for (int round = 0; round < 10; ++round) {
    a.reset();
    void* p = take(a, 100);
    if (first == nullptr) first = p;
    EXPECT_EQ(p, first);  // the same memory again
    work();
    EXPECT_EQ(a.blocks(), blocks);
  }
}

TEST(KnotArena, LibknotAllocatesThroughIt) {
  KnotArena a(256);
  knot_dname_storage_t owner;
  ASSERT_NE(knot_dname_from_str(owner, "video.cdn.example.", sizeof owner), nullptr);
  size_t before = a.blocks();
  for (int i = 0; i < 20; ++i) {
    knot_rrset_t* rr = knot_rrset_new(owner, KNOT_RRTYPE_A, KNOT_CLASS_IN, 30, a.mm());
    ASSERT_NE(rr, nullptr);
    uint8_t addr[4] = {192, 0, 2, uint8_t(i)};
    ASSERT_EQ(knot_rrset_add_rdata(rr, addr, 4, a.mm()), KNOT_EOK);
    EXPECT_EQ(rr->rrs.count, 1u);
  }
  EXPECT_GT(a.blocks(), before);  // 20 records do not fit one 256-byte block
}

}  // namespace
}  // namespace cdn::geo::dns
