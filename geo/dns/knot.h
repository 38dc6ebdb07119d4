#pragma once
// libknot (Knot DNS's library) for C++: its headers have no extern "C" guards, and its objects get
// RAII owners here so every return path of the answer code frees them.
extern "C" {
#include <libknot/libknot.h>
}

#include <memory>

namespace cdn::geo::dns {

struct KnotPktFree {
  void operator()(knot_pkt_t* p) const { knot_pkt_free(p); }
};
using KnotPkt = std::unique_ptr<knot_pkt_t, KnotPktFree>;

struct KnotRrsetFree {
  void operator()(knot_rrset_t* r) const { knot_rrset_free(r, nullptr); }
};
using KnotRrset = std::unique_ptr<knot_rrset_t, KnotRrsetFree>;

}  // namespace cdn::geo::dns
