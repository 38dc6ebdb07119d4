#pragma once
// libknot (Knot DNS's library) for C++: its headers have no extern "C" guards. A packet parsed
// outside the answer path (tests) gets an RAII owner here; the answer path puts its packets and
// records in a per-thread arena (knot_arena.h) instead.
extern "C" {
#include <libknot/libknot.h>
}

#include <memory>

namespace cdn::geo::dns {

struct KnotPktFree {
  void operator()(knot_pkt_t* p) const { knot_pkt_free(p); }
};
using KnotPkt = std::unique_ptr<knot_pkt_t, KnotPktFree>;

}  // namespace cdn::geo::dns
