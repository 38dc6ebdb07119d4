#pragma once
// Test helpers: DNS queries built with libknot, and answers read back with it.
#include <arpa/inet.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "geo/dns/knot.h"

namespace cdn::geo::testing {

struct QuerySpec {
  std::string name = "video.cdn.example";
  uint16_t qtype = KNOT_RRTYPE_A;
  uint16_t qclass = KNOT_CLASS_IN;
  uint16_t id = 0x4242;
  bool edns = false;
  uint16_t payload = 1232;
  uint8_t edns_version = 0;
  std::optional<std::vector<uint8_t>> ecs =
      std::nullopt;  // raw option data (family, source, scope, address)
};

// Raw ECS option data: family (1 = IPv4, 2 = IPv6), source prefix, scope, address bytes as given.
inline std::vector<uint8_t> ecs_data(uint16_t family, uint8_t source, uint8_t scope,
                                     std::vector<uint8_t> addr) {
  addr.insert(addr.begin(), {static_cast<uint8_t>(family >> 8), static_cast<uint8_t>(family & 0xff),
                             source, scope});
  return addr;
}

inline std::string build_query(const QuerySpec& s) {
  std::vector<uint8_t> buf(4096);
  knot_pkt_t* p = knot_pkt_new(buf.data(), static_cast<uint16_t>(buf.size()), nullptr);
  knot_wire_set_id(p->wire, s.id);
  knot_dname_storage_t qname;
  std::string fq = s.name.empty() || s.name.back() != '.' ? s.name + "." : s.name;
  knot_dname_from_str(qname, fq.c_str(), sizeof qname);
  // knot_dname_from_str keeps the letters' case, so mixed-case names go out as written.
  knot_pkt_put_question(p, qname, s.qclass, s.qtype);
  if (s.edns) {
    knot_rrset_t opt;
    knot_edns_init(&opt, s.payload, 0, s.edns_version, nullptr);
    if (s.ecs)
      knot_edns_add_option(&opt, KNOT_EDNS_OPTION_CLIENT_SUBNET,
                           static_cast<uint16_t>(s.ecs->size()), s.ecs->data(), nullptr);
    knot_pkt_begin(p, KNOT_ADDITIONAL);
    knot_pkt_put(p, KNOT_COMPR_HINT_NONE, &opt, 0);
    knot_rrset_clear(&opt, nullptr);
  }
  std::string out(reinterpret_cast<const char*>(p->wire), p->size);
  knot_pkt_free(p);
  return out;
}

// A parsed answer. `ok` is false when libknot could not parse it.
struct Answer {
  std::string wire;
  dns::KnotPkt pkt;
  bool ok = false;

  explicit Answer(std::string w) : wire(std::move(w)) {
    if (wire.size() < KNOT_WIRE_HEADER_SIZE) return;
    pkt.reset(knot_pkt_new(reinterpret_cast<uint8_t*>(wire.data()),
                           static_cast<uint16_t>(wire.size()), nullptr));
    ok = pkt && knot_pkt_parse(pkt.get(), 0) == KNOT_EOK;
  }
  const uint8_t* w() const { return reinterpret_cast<const uint8_t*>(wire.data()); }
  int rcode() const { return knot_pkt_ext_rcode(pkt.get()); }
  bool aa() const { return knot_wire_get_aa(w()); }
  bool tc() const { return knot_wire_get_tc(w()); }
  uint16_t id() const { return knot_wire_get_id(w()); }
  const knot_pktsection_t* section(knot_section_t s) const {
    return knot_pkt_section(pkt.get(), s);
  }
  // Records (not rrsets) of `type` in a section: libknot merges an RRset's records on parse only
  // when they are adjacent, so count over every rrset.
  std::vector<const knot_rrset_t*> rrsets(knot_section_t s, uint16_t type) const {
    std::vector<const knot_rrset_t*> out;
    const knot_pktsection_t* sec = section(s);
    for (uint16_t i = 0; i < sec->count; ++i)
      if (knot_pkt_rr(sec, i)->type == type) out.push_back(knot_pkt_rr(sec, i));
    return out;
  }
  size_t count(knot_section_t s, uint16_t type) const {
    size_t n = 0;
    for (const auto* rr : rrsets(s, type)) n += rr->rrs.count;
    return n;
  }
  // Addresses of the A/AAAA records in the answer section, as text.
  std::vector<std::string> addresses(uint16_t type) const {
    std::vector<std::string> out;
    for (const auto* rr : rrsets(KNOT_ANSWER, type)) {
      knot_rdata_t* rd = rr->rrs.rdata;
      for (uint16_t i = 0; i < rr->rrs.count; ++i, rd = knot_rdataset_next(rd)) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(type == KNOT_RRTYPE_A ? AF_INET : AF_INET6, rd->data, text, sizeof text);
        out.push_back(text);
      }
    }
    return out;
  }
  bool has_opt() const { return knot_pkt_has_edns(pkt.get()); }
  // The ECS option of the answer, when there is one.
  std::optional<knot_edns_client_subnet_t> ecs() const {
    const uint8_t* opt = knot_pkt_edns_option(pkt.get(), KNOT_EDNS_OPTION_CLIENT_SUBNET);
    if (opt == nullptr) return std::nullopt;
    knot_edns_client_subnet_t e{};
    if (knot_edns_client_subnet_parse(&e, opt + KNOT_EDNS_OPTION_HDRLEN,
                                      knot_edns_opt_get_length(opt)) != KNOT_EOK)
      return std::nullopt;
    return e;
  }
};

}  // namespace cdn::geo::testing
