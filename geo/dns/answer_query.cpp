// answer_query(): decide what the answer holds (Plan), then write it with libknot.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "geo/dns/client_subnet.h"
#include "geo/dns/dns_metrics.h"
#include "geo/dns/dns_server.h"
#include "geo/dns/knot.h"
#include "geo/dns/zone_lookup.h"

namespace cdn::geo {
namespace {

using dns::EcsRead;
using dns::EcsStatus;
using dns::KnotPkt;
using dns::KnotRrset;
using dns::NameInfo;

constexpr size_t kMaxMessage = 65535;

// What goes into the answer; rrsets in the three sections, in order.
struct Plan {
  int rcode = KNOT_RCODE_NOERROR;
  bool authoritative = false;
  uint8_t ecs_scope = 0;
  std::vector<KnotRrset> answer, authority, additional;
  bool answer_owner_is_qname = true;  // compress answer owners to the question (keeps its case)
};

// A header-only answer (no question, no OPT): for queries whose question cannot be trusted.
void header_only(const uint8_t* query, int rcode, std::string& out) {
  out.assign(KNOT_WIRE_HEADER_SIZE, '\0');
  auto* w = reinterpret_cast<uint8_t*>(out.data());
  knot_wire_set_id(w, knot_wire_get_id(query));
  knot_wire_set_qr(w);
  knot_wire_set_opcode(w, knot_wire_get_opcode(query));
  if (knot_wire_get_rd(query)) knot_wire_set_rd(w);
  knot_wire_set_rcode(w, static_cast<uint8_t>(rcode));
}

// `name` as a wire-format dname in `buf`; false when it is not a valid name.
bool to_dname(const std::string& name, knot_dname_storage_t buf) {
  std::string fq = dns::canonical_name(name) + ".";
  return knot_dname_from_str(buf, fq.c_str(), KNOT_DNAME_MAXLEN) != nullptr;
}

KnotRrset new_rrset(const knot_dname_t* owner, uint16_t type, uint32_t ttl) {
  return KnotRrset(knot_rrset_new(owner, type, KNOT_CLASS_IN, ttl, nullptr));
}

void add_rdata(knot_rrset_t* rr, const uint8_t* data, size_t len) {
  if (knot_rrset_add_rdata(rr, data, static_cast<uint16_t>(len), nullptr) != KNOT_EOK)
    throw std::bad_alloc();
}

// Address records of `type` for the textual IPs (ones that do not parse for that family are
// skipped).
KnotRrset address_rrset(const knot_dname_t* owner, uint16_t type, uint32_t ttl,
                        const std::vector<const std::string*>& ips) {
  KnotRrset rr = new_rrset(owner, type, ttl);
  if (!rr) throw std::bad_alloc();
  int family = type == KNOT_RRTYPE_A ? AF_INET : AF_INET6;
  for (const std::string* ip : ips) {
    uint8_t bin[16];
    if (inet_pton(family, ip->c_str(), bin) != 1) continue;
    add_rdata(rr.get(), bin, family == AF_INET ? 4 : 16);
  }
  return rr;
}

std::string soa_rname(const ZoneConfig& zone) {
  if (zone.soa_rname.find('.') != std::string::npos) return zone.soa_rname;
  return zone.soa_rname + "." + zone.zone;
}

KnotRrset soa_rrset(const ZoneConfig& zone, const knot_dname_t* apex, uint32_t ttl) {
  knot_dname_storage_t mname, rname;
  std::string primary = zone.ns_names.empty() ? zone.zone : zone.ns_names.front();
  if (!to_dname(primary, mname) || !to_dname(soa_rname(zone), rname)) throw std::bad_alloc();
  std::array<uint8_t, 2 * KNOT_DNAME_MAXLEN + 20> rdata{};
  size_t n = knot_dname_size(mname);
  std::memcpy(rdata.data(), mname, n);
  size_t r = knot_dname_size(rname);
  std::memcpy(rdata.data() + n, rname, r);
  n += r;
  for (uint32_t v :
       {zone.soa_serial, zone.soa_refresh, zone.soa_retry, zone.soa_expire, zone.soa_minimum}) {
    knot_wire_write_u32(rdata.data() + n, v);
    n += 4;
  }
  KnotRrset rr = new_rrset(apex, KNOT_RRTYPE_SOA, ttl);
  if (!rr) throw std::bad_alloc();
  add_rdata(rr.get(), rdata.data(), n);
  return rr;
}

// RFC 2308 §3: the SOA of a negative answer carries min(SOA TTL, SOA MINIMUM).
KnotRrset negative_soa(const ZoneConfig& zone, const knot_dname_t* apex) {
  return soa_rrset(zone, apex, std::min(zone.apex_ttl, zone.soa_minimum));
}

void plan_ns(const ZoneConfig& zone, const knot_dname_t* apex, Plan& plan) {
  KnotRrset ns = new_rrset(apex, KNOT_RRTYPE_NS, zone.apex_ttl);
  if (!ns) throw std::bad_alloc();
  for (const auto& name : zone.ns_names) {
    knot_dname_storage_t target;
    if (to_dname(name, target)) add_rdata(ns.get(), target, knot_dname_size(target));
  }
  plan.answer.push_back(std::move(ns));
  for (const auto& name : zone.ns_names) {  // glue, in the order the NS set names them
    knot_dname_storage_t owner;
    if (!to_dname(name, owner)) continue;
    std::vector<const std::string*> v4, v6;
    for (const auto& [glue_name, ip] : zone.ns_glue) {
      if (dns::canonical_name(glue_name) != dns::canonical_name(name)) continue;
      (ip.find(':') != std::string::npos ? v6 : v4).push_back(&ip);
    }
    for (auto [type, ips] : {std::pair{KNOT_RRTYPE_A, &v4}, std::pair{KNOT_RRTYPE_AAAA, &v6}}) {
      if (ips->empty()) continue;
      KnotRrset glue = address_rrset(owner, type, zone.apex_ttl, *ips);
      if (!knot_rrset_empty(glue.get())) plan.additional.push_back(std::move(glue));
    }
  }
}

void plan_steered(const ZoneConfig& zone, const Steering& steering, const NameInfo& info,
                  const std::string& name, uint16_t type, const knot_dname_t* qname,
                  const sockaddr_storage& from, const EcsRead& ecs, Plan& plan) {
  SteerQuery q;
  q.host = name;
  q.family = type == KNOT_RRTYPE_A ? AF_INET : AF_INET6;
  q.resolver = from;
  size_t i = static_cast<size_t>(info.delivery);
  bool host_uses_ecs = i >= zone.delivery_use_ecs.size() || zone.delivery_use_ecs[i];
  if (ecs.status == EcsStatus::Usable) {
    if (host_uses_ecs) q.ecs = ecs.subnet;
    dns::count_ecs(host_uses_ecs ? dns::EcsResult::Used : dns::EcsResult::Unused);
  }
  SteerAnswer a = steering.steer(q);
  if (q.ecs) {
    uint8_t max_scope =
        ecs.subnet->family == AF_INET ? 32 : 128;  // the ECS option's family, not the qtype's
    plan.ecs_scope = std::min(a.scope_prefix, max_scope);
  }
  std::vector<const std::string*> ips;
  for (const auto& ip : a.addresses) ips.push_back(&ip);
  KnotRrset rr = address_rrset(qname, type, a.ttl, ips);
  if (!knot_rrset_empty(rr.get())) plan.answer.push_back(std::move(rr));
}

// An in-zone name that exists: its records of `qtype`, or none (NODATA).
void plan_existing(const ZoneConfig& zone, const Steering& steering, const NameInfo& info,
                   const std::string& name, uint16_t qtype, const knot_dname_t* qname,
                   const knot_dname_t* apex, const sockaddr_storage& from, const EcsRead& ecs,
                   Plan& plan) {
  // RFC 8482: ANY gets one RRset, not all of them.
  if (qtype == KNOT_RRTYPE_ANY) qtype = info.apex ? KNOT_RRTYPE_SOA : KNOT_RRTYPE_A;
  if (info.apex && qtype == KNOT_RRTYPE_SOA) {
    plan.answer.push_back(soa_rrset(zone, apex, zone.apex_ttl));
  } else if (info.apex && qtype == KNOT_RRTYPE_NS) {
    plan_ns(zone, apex, plan);
  } else if ((qtype == KNOT_RRTYPE_A || qtype == KNOT_RRTYPE_AAAA) && info.delivery >= 0) {
    plan_steered(zone, steering, info, name, qtype, qname, from, ecs, plan);
  } else if (qtype == KNOT_RRTYPE_A || qtype == KNOT_RRTYPE_AAAA) {
    KnotRrset rr =
        address_rrset(qname, qtype, info.fixed_ttl, qtype == KNOT_RRTYPE_A ? info.v4 : info.v6);
    if (!knot_rrset_empty(rr.get())) plan.answer.push_back(std::move(rr));
  }
  if (plan.answer.empty()) plan.authority.push_back(negative_soa(zone, apex));
}

Plan make_plan(const ZoneConfig& zone, const Steering& steering, const knot_pkt_t* q,
               const sockaddr_storage& from, const EcsRead& ecs) {
  Plan plan;
  if (knot_pkt_qclass(q) != KNOT_CLASS_IN) {
    plan.rcode = KNOT_RCODE_REFUSED;
    return plan;
  }
  const knot_dname_t* qname = knot_pkt_qname(q);
  char text[KNOT_DNAME_TXT_MAXLEN + 1];
  if (knot_dname_to_str(text, qname, sizeof text) == nullptr) {
    plan.rcode = KNOT_RCODE_FORMERR;
    return plan;
  }
  std::string name = dns::canonical_name(text);
  NameInfo info = dns::look_up(zone, name);
  uint16_t qtype = knot_pkt_qtype(q);
  if (info.kind == NameInfo::Kind::OutOfZone || qtype == KNOT_RRTYPE_AXFR ||
      qtype == KNOT_RRTYPE_IXFR) {
    plan.rcode = KNOT_RCODE_REFUSED;  // not ours, or a zone transfer (we serve none)
    return plan;
  }
  plan.authoritative = true;
  knot_dname_storage_t apex;
  if (!to_dname(zone.zone, apex)) {
    plan.rcode = KNOT_RCODE_SERVFAIL;
    return plan;
  }
  if (info.kind == NameInfo::Kind::Missing) {
    plan.rcode = KNOT_RCODE_NXDOMAIN;
    plan.authority.push_back(negative_soa(zone, apex));
    return plan;
  }
  plan_existing(zone, steering, info, name, qtype, qname, apex, from, ecs, plan);
  return plan;
}

// The response's OPT RR: our payload size, the extended rcode, and the ECS echo when the query had
// one.
struct Opt {
  knot_rrset_t rr;
  Opt() { knot_rrset_init_empty(&rr); }
  ~Opt() { knot_rrset_clear(&rr, nullptr); }
  Opt(const Opt&) = delete;
  Opt& operator=(const Opt&) = delete;
};

bool build_opt(Opt& opt, uint16_t our_payload, int rcode, const EcsRead* ecs, uint8_t scope) {
  if (knot_edns_init(&opt.rr, our_payload, 0, KNOT_EDNS_VERSION, nullptr) != KNOT_EOK) return false;
  knot_edns_set_ext_rcode(&opt.rr, static_cast<uint8_t>(KNOT_EDNS_RCODE_HI(rcode)));
  if (ecs == nullptr) return true;
  knot_edns_client_subnet_t echo = ecs->wire;
  echo.scope_len = scope;
  uint16_t size = knot_edns_client_subnet_size(&echo);
  uint8_t* data = nullptr;
  if (knot_edns_reserve_option(&opt.rr, KNOT_EDNS_OPTION_CLIENT_SUBNET, size, &data, nullptr) !=
      KNOT_EOK)
    return false;
  return knot_edns_client_subnet_write(data, size, &echo) == KNOT_EOK;
}

// Puts one section's rrsets; false (and TC set) when one does not fit.
bool put_section(knot_pkt_t* r, knot_section_t section, const std::vector<KnotRrset>& rrsets,
                 bool qname_owner) {
  if (knot_pkt_begin(r, section) != KNOT_EOK) return false;
  for (const auto& rr : rrsets) {
    uint16_t hint = qname_owner ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
    int rc = knot_pkt_put(r, hint, rr.get(), KNOT_PF_NOTRUNC);
    if (rc != KNOT_EOK) {
      knot_wire_set_tc(r->wire);
      return false;
    }
  }
  return true;
}

// Writes the answer over `out`.
void write_response(const knot_pkt_t* q, const Plan& plan, bool over_tcp, uint16_t our_payload,
                    const EcsRead& ecs, std::string& out) {
  const bool edns = knot_pkt_has_edns(q);
  size_t max_size = KNOT_WIRE_MIN_PKTSIZE;
  if (over_tcp) {
    max_size = kMaxMessage;
  } else if (edns) {
    size_t theirs = std::max<size_t>(knot_edns_get_payload(q->opt_rr), KNOT_WIRE_MIN_PKTSIZE);
    max_size = std::min(theirs, std::max<size_t>(our_payload, KNOT_WIRE_MIN_PKTSIZE));
  }
  // Written in a per-thread buffer (copied out at the end), not one allocated per answer.
  thread_local std::array<uint8_t, kMaxMessage> wire;
  KnotPkt r(knot_pkt_new(wire.data(), static_cast<uint16_t>(max_size), nullptr));
  if (!r || knot_pkt_init_response(r.get(), q) != KNOT_EOK) throw std::bad_alloc();
  knot_wire_set_rcode(r->wire, static_cast<uint8_t>(KNOT_EDNS_RCODE_LO(plan.rcode)));
  if (plan.authoritative) knot_wire_set_aa(r->wire);

  Opt opt;
  const bool echo_ecs = ecs.status != EcsStatus::Absent && ecs.status != EcsStatus::Malformed;
  if (edns && !build_opt(opt, our_payload, plan.rcode, echo_ecs ? &ecs : nullptr, plan.ecs_scope))
    throw std::bad_alloc();
  // Room for the OPT is kept back so the records can never crowd it out.
  uint16_t opt_size = edns ? static_cast<uint16_t>(knot_edns_wire_size(&opt.rr)) : 0;
  if (edns && knot_pkt_reserve(r.get(), opt_size) != KNOT_EOK) throw std::bad_alloc();
  put_section(r.get(), KNOT_ANSWER, plan.answer, plan.answer_owner_is_qname) &&
      put_section(r.get(), KNOT_AUTHORITY, plan.authority, false) &&
      put_section(r.get(), KNOT_ADDITIONAL, plan.additional, false);
  if (edns) {
    if (knot_pkt_begin(r.get(), KNOT_ADDITIONAL) != KNOT_EOK ||
        knot_pkt_reclaim(r.get(), opt_size) != KNOT_EOK ||
        knot_pkt_put(r.get(), KNOT_COMPR_HINT_NONE, &opt.rr, KNOT_PF_NOTRUNC) != KNOT_EOK)
      throw std::bad_alloc();
  }
  if (knot_wire_get_tc(r->wire)) dns::count_truncated();
  out.assign(reinterpret_cast<const char*>(r->wire), r->size);
}

void count_ecs_read(const EcsRead& ecs) {
  if (ecs.status == EcsStatus::SourceZero) dns::count_ecs(dns::EcsResult::SourceZero);
  if (ecs.status == EcsStatus::IgnoredPrivate) dns::count_ecs(dns::EcsResult::IgnoredPrivate);
  if (ecs.status == EcsStatus::Malformed) dns::count_ecs(dns::EcsResult::Formerr);
}

void answer_parsed(const ZoneConfig& zone, const Steering& steering, const knot_pkt_t* q,
                   const sockaddr_storage& from, bool over_tcp, uint16_t our_payload,
                   std::string& out) {
  uint16_t qtype = knot_pkt_qtype(q);
  EcsRead ecs;
  Plan plan;
  if (knot_pkt_has_edns(q) && knot_edns_get_version(q->opt_rr) > KNOT_EDNS_VERSION) {
    plan.rcode =
        KNOT_RCODE_BADVERS;  // RFC 6891 §6.1.3; no ECS processing for a version we do not speak
  } else {
    if (knot_pkt_has_edns(q))
      ecs = dns::read_client_subnet(knot_pkt_edns_option(q, KNOT_EDNS_OPTION_CLIENT_SUBNET));
    count_ecs_read(ecs);
    if (ecs.status == EcsStatus::Malformed) {
      plan.rcode = KNOT_RCODE_FORMERR;
    } else {
      plan = make_plan(zone, steering, q, from, ecs);
    }
  }
  write_response(q, plan, over_tcp, our_payload, ecs, out);
  dns::count_query(qtype, plan.rcode);
}

}  // namespace

std::string answer_query(const ZoneConfig& zone, const Steering& steering, const uint8_t* query,
                         size_t len, const sockaddr_storage& from, bool over_tcp,
                         uint16_t udp_max_payload) {
  std::string out;
  answer_query_into(zone, steering, query, len, from, over_tcp, udp_max_payload, out);
  return out;
}

void answer_query_into(const ZoneConfig& zone, const Steering& steering, const uint8_t* query,
                       size_t len, const sockaddr_storage& from, bool over_tcp,
                       uint16_t udp_max_payload, std::string& out) {
  out.clear();
  // Too short to carry an ID to answer to, or itself an answer (never answer those: no loops).
  if (query == nullptr || len < KNOT_WIRE_HEADER_SIZE || len > kMaxMessage ||
      knot_wire_get_qr(query)) {
    dns::count_dropped_query();
    return;
  }
  try {
    if (knot_wire_get_opcode(query) != KNOT_OPCODE_QUERY) {
      dns::count_query(0, KNOT_RCODE_NOTIMPL);
      return header_only(query, KNOT_RCODE_NOTIMPL, out);
    }
    if (knot_wire_get_qdcount(query) != 1) {
      dns::count_query(0, KNOT_RCODE_FORMERR);
      return header_only(query, KNOT_RCODE_FORMERR, out);
    }
    // libknot parses in place and wants a writable buffer; the caller's bytes stay untouched.
    // One per thread, not one allocation per query.
    thread_local std::array<uint8_t, kMaxMessage> copy;
    std::memcpy(copy.data(), query, len);
    KnotPkt q(knot_pkt_new(copy.data(), static_cast<uint16_t>(len), nullptr));
    if (!q) throw std::bad_alloc();
    if (knot_pkt_parse(q.get(), 0) != KNOT_EOK || q->qname_size == 0) {
      dns::count_query(0, KNOT_RCODE_FORMERR);
      return header_only(query, KNOT_RCODE_FORMERR, out);
    }
    answer_parsed(zone, steering, q.get(), from, over_tcp, udp_max_payload, out);
  } catch (const std::exception&) {
    // Out of memory, or a Steering that threw: SERVFAIL, never an exception into the event loop.
    dns::count_query(0, KNOT_RCODE_SERVFAIL);
    header_only(query, KNOT_RCODE_SERVFAIL, out);
  }
}

}  // namespace cdn::geo
