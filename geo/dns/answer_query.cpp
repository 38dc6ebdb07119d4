// answer_query(): decide what the answer holds (Plan), then write it with libknot.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "geo/dns/client_subnet.h"
#include "geo/dns/dns_metrics.h"
#include "geo/dns/dns_server.h"
#include "geo/dns/knot.h"
#include "geo/dns/knot_arena.h"
#include "geo/dns/zone_lookup.h"

namespace cdn::geo {
namespace {

using dns::EcsRead;
using dns::EcsStatus;
using dns::KnotArena;
using dns::NameInfo;

constexpr size_t kMaxMessage = 65535;

// What goes into the answer; rrsets in the three sections, in order. The rrsets live in the
// query's arena; the vectors keep their capacity from query to query.
struct Plan {
  int rcode = KNOT_RCODE_NOERROR;
  bool authoritative = false;
  uint8_t ecs_scope = 0;
  std::vector<knot_rrset_t*> answer, authority, additional;
  bool answer_owner_is_qname = true;  // compress answer owners to the question (keeps its case)

  void reset() {
    rcode = KNOT_RCODE_NOERROR;
    authoritative = false;
    ecs_scope = 0;
    answer.clear();
    authority.clear();
    additional.clear();
    answer_owner_is_qname = true;
  }
};

// Everything one query needs beyond its inputs, one per thread and reused: the answer path makes
// no allocation of its own once these have grown to the largest query seen.
struct Scratch {
  KnotArena arena;
  std::array<uint8_t, kMaxMessage> query_copy;  // libknot parses in place: a writable copy
  std::array<uint8_t, kMaxMessage> wire;        // the response, copied out at the end
  Plan plan;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The query's context while its answer is planned.
struct Ctx {
  const ZoneConfig& zone;
  const Steering& steering;
  knot_mm_t* mm;
  Plan& plan;
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

// `name` (then ".`suffix`" when given) as a wire-format dname in `buf`, lowercase; false when it is
// not a valid name. Built on the stack: no string per call.
bool to_dname(std::string_view name, knot_dname_storage_t buf, std::string_view suffix = {}) {
  char text[KNOT_DNAME_TXT_MAXLEN + 2];
  size_t n = 0;
  auto append = [&](std::string_view part) {
    if (!part.empty() && part.back() == '.') part.remove_suffix(1);
    if (n + part.size() + 1 >= sizeof text) return false;
    for (char c : part) text[n++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    text[n++] = '.';
    return true;
  };
  if (!append(name) || (!suffix.empty() && !append(suffix))) return false;
  text[n] = '\0';
  return knot_dname_from_str(buf, text, KNOT_DNAME_MAXLEN) != nullptr;
}

knot_rrset_t* new_rrset(const Ctx& c, const knot_dname_t* owner, uint16_t type, uint32_t ttl) {
  knot_rrset_t* rr = knot_rrset_new(owner, type, KNOT_CLASS_IN, ttl, c.mm);
  if (rr == nullptr) throw std::bad_alloc();
  return rr;
}

void add_rdata(const Ctx& c, knot_rrset_t* rr, const uint8_t* data, size_t len) {
  if (knot_rrset_add_rdata(rr, data, static_cast<uint16_t>(len), c.mm) != KNOT_EOK)
    throw std::bad_alloc();
}

// Adds a textual IP of the rrset's family (one that does not parse as that family is skipped).
void add_text_address(const Ctx& c, knot_rrset_t* rr, const std::string& ip) {
  int family = rr->type == KNOT_RRTYPE_A ? AF_INET : AF_INET6;
  uint8_t bin[16];
  if (inet_pton(family, ip.c_str(), bin) == 1) add_rdata(c, rr, bin, family == AF_INET ? 4 : 16);
}

knot_rrset_t* soa_rrset(const Ctx& c, const knot_dname_t* apex, uint32_t ttl) {
  const ZoneConfig& zone = c.zone;
  knot_dname_storage_t mname, rname;
  std::string_view primary = zone.ns_names.empty() ? zone.zone : zone.ns_names.front();
  // The rname is relative to the zone unless it contains a dot.
  bool relative = zone.soa_rname.find('.') == std::string::npos;
  if (!to_dname(primary, mname) ||
      !to_dname(zone.soa_rname, rname, relative ? std::string_view(zone.zone) : std::string_view()))
    throw std::bad_alloc();
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
  knot_rrset_t* rr = new_rrset(c, apex, KNOT_RRTYPE_SOA, ttl);
  add_rdata(c, rr, rdata.data(), n);
  return rr;
}

// RFC 2308 §3: the SOA of a negative answer carries min(SOA TTL, SOA MINIMUM).
knot_rrset_t* negative_soa(const Ctx& c, const knot_dname_t* apex) {
  return soa_rrset(c, apex, std::min(c.zone.apex_ttl, c.zone.soa_minimum));
}

void plan_ns(const Ctx& c, const knot_dname_t* apex) {
  const ZoneConfig& zone = c.zone;
  knot_rrset_t* ns = new_rrset(c, apex, KNOT_RRTYPE_NS, zone.apex_ttl);
  for (const auto& name : zone.ns_names) {
    knot_dname_storage_t target;
    if (to_dname(name, target)) add_rdata(c, ns, target, knot_dname_size(target));
  }
  c.plan.answer.push_back(ns);
  for (const auto& name : zone.ns_names) {  // glue, in the order the NS set names them
    knot_dname_storage_t owner;
    if (!to_dname(name, owner)) continue;
    for (uint16_t type : {KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA}) {
      knot_rrset_t* glue = new_rrset(c, owner, type, zone.apex_ttl);
      bool v6 = type == KNOT_RRTYPE_AAAA;
      for (const auto& [glue_name, ip] : zone.ns_glue)
        if ((ip.find(':') != std::string::npos) == v6 && dns::same_name(glue_name, name))
          add_text_address(c, glue, ip);
      if (!knot_rrset_empty(glue)) c.plan.additional.push_back(glue);
    }
  }
}

void plan_steered(const Ctx& c, const NameInfo& info, std::string_view name, uint16_t type,
                  const knot_dname_t* qname, const sockaddr_storage& from, const EcsRead& ecs) {
  SteerQuery q;
  q.host = name;
  q.family = type == KNOT_RRTYPE_A ? AF_INET : AF_INET6;
  q.resolver = from;
  size_t i = static_cast<size_t>(info.delivery);
  bool host_uses_ecs = i >= c.zone.delivery_use_ecs.size() || c.zone.delivery_use_ecs[i];
  if (ecs.status == EcsStatus::Usable) {
    if (host_uses_ecs) q.ecs = ecs.subnet;
    dns::count_ecs(host_uses_ecs ? dns::EcsResult::Used : dns::EcsResult::Unused);
  }
  SteerAnswer a = c.steering.steer(q);
  if (q.ecs) {
    uint8_t max_scope =
        ecs.subnet->family == AF_INET ? 32 : 128;  // the ECS option's family, not the qtype's
    c.plan.ecs_scope = std::min(a.scope_prefix, max_scope);
  }
  knot_rrset_t* rr = new_rrset(c, qname, type, a.ttl);
  const uint8_t len = type == KNOT_RRTYPE_A ? 4 : 16;
  for (size_t g = 0; g < a.group_count; ++g)
    for (const WireAddress& addr : a.groups[g])
      if (addr.len == len) add_rdata(c, rr, addr.bytes.data(), len);
  if (!knot_rrset_empty(rr)) c.plan.answer.push_back(rr);
}

// An in-zone name that exists: its records of `qtype`, or none (NODATA).
void plan_existing(const Ctx& c, const NameInfo& info, std::string_view name, uint16_t qtype,
                   const knot_dname_t* qname, const knot_dname_t* apex,
                   const sockaddr_storage& from, const EcsRead& ecs) {
  // RFC 8482: ANY gets one RRset, not all of them.
  if (qtype == KNOT_RRTYPE_ANY) qtype = info.apex ? KNOT_RRTYPE_SOA : KNOT_RRTYPE_A;
  if (info.apex && qtype == KNOT_RRTYPE_SOA) {
    c.plan.answer.push_back(soa_rrset(c, apex, c.zone.apex_ttl));
  } else if (info.apex && qtype == KNOT_RRTYPE_NS) {
    plan_ns(c, apex);
  } else if ((qtype == KNOT_RRTYPE_A || qtype == KNOT_RRTYPE_AAAA) && info.delivery >= 0) {
    plan_steered(c, info, name, qtype, qname, from, ecs);
  } else if (qtype == KNOT_RRTYPE_A || qtype == KNOT_RRTYPE_AAAA) {
    knot_rrset_t* rr = new_rrset(c, qname, qtype, info.fixed_ttl);
    dns::for_each_fixed_address(c.zone, name, info, qtype == KNOT_RRTYPE_A ? AF_INET : AF_INET6,
                                [&](const std::string& ip) { add_text_address(c, rr, ip); });
    if (!knot_rrset_empty(rr)) c.plan.answer.push_back(rr);
  }
  if (c.plan.answer.empty()) c.plan.authority.push_back(negative_soa(c, apex));
}

void make_plan(const Ctx& c, const knot_pkt_t* q, const sockaddr_storage& from,
               const EcsRead& ecs) {
  Plan& plan = c.plan;
  if (knot_pkt_qclass(q) != KNOT_CLASS_IN) {
    plan.rcode = KNOT_RCODE_REFUSED;
    return;
  }
  const knot_dname_t* qname = knot_pkt_qname(q);
  char text[KNOT_DNAME_TXT_MAXLEN + 1];
  if (knot_dname_to_str(text, qname, sizeof text) == nullptr) {
    plan.rcode = KNOT_RCODE_FORMERR;
    return;
  }
  // Lowercase without the trailing dot, in place: the name the zone is searched for.
  size_t len = std::strlen(text);
  if (len > 0 && text[len - 1] == '.') --len;
  for (size_t i = 0; i < len; ++i)
    if (text[i] >= 'A' && text[i] <= 'Z') text[i] = static_cast<char>(text[i] + 32);
  std::string_view name(text, len);
  NameInfo info = dns::look_up(c.zone, name);
  uint16_t qtype = knot_pkt_qtype(q);
  if (info.kind == NameInfo::Kind::OutOfZone || qtype == KNOT_RRTYPE_AXFR ||
      qtype == KNOT_RRTYPE_IXFR) {
    plan.rcode = KNOT_RCODE_REFUSED;  // not ours, or a zone transfer (we serve none)
    return;
  }
  plan.authoritative = true;
  knot_dname_storage_t apex;
  if (!to_dname(c.zone.zone, apex)) {
    plan.rcode = KNOT_RCODE_SERVFAIL;
    return;
  }
  if (info.kind == NameInfo::Kind::Missing) {
    plan.rcode = KNOT_RCODE_NXDOMAIN;
    plan.authority.push_back(negative_soa(c, apex));
    return;
  }
  plan_existing(c, info, name, qtype, qname, apex, from, ecs);
}

// The response's OPT RR: our payload size, the extended rcode, and the ECS echo when the query had
// one. Its data is in the query's arena.
bool build_opt(knot_rrset_t* opt, knot_mm_t* mm, uint16_t our_payload, int rcode,
               const EcsRead* ecs, uint8_t scope) {
  if (knot_edns_init(opt, our_payload, 0, KNOT_EDNS_VERSION, mm) != KNOT_EOK) return false;
  knot_edns_set_ext_rcode(opt, static_cast<uint8_t>(KNOT_EDNS_RCODE_HI(rcode)));
  if (ecs == nullptr) return true;
  knot_edns_client_subnet_t echo = ecs->wire;
  echo.scope_len = scope;
  uint16_t size = knot_edns_client_subnet_size(&echo);
  uint8_t* data = nullptr;
  if (knot_edns_reserve_option(opt, KNOT_EDNS_OPTION_CLIENT_SUBNET, size, &data, mm) != KNOT_EOK)
    return false;
  return knot_edns_client_subnet_write(data, size, &echo) == KNOT_EOK;
}

// Puts one section's rrsets; false (and TC set) when one does not fit.
bool put_section(knot_pkt_t* r, knot_section_t section, const std::vector<knot_rrset_t*>& rrsets,
                 bool qname_owner) {
  if (knot_pkt_begin(r, section) != KNOT_EOK) return false;
  for (const knot_rrset_t* rr : rrsets) {
    uint16_t hint = qname_owner ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
    int rc = knot_pkt_put(r, hint, rr, KNOT_PF_NOTRUNC);
    if (rc != KNOT_EOK) {
      knot_wire_set_tc(r->wire);
      return false;
    }
  }
  return true;
}

// Writes the answer over `out`.
void write_response(Scratch& s, const knot_pkt_t* q, bool over_tcp, uint16_t our_payload,
                    const EcsRead& ecs, std::string& out) {
  const Plan& plan = s.plan;
  const bool edns = knot_pkt_has_edns(q);
  size_t max_size = KNOT_WIRE_MIN_PKTSIZE;
  if (over_tcp) {
    max_size = kMaxMessage;
  } else if (edns) {
    size_t theirs = std::max<size_t>(knot_edns_get_payload(q->opt_rr), KNOT_WIRE_MIN_PKTSIZE);
    max_size = std::min(theirs, std::max<size_t>(our_payload, KNOT_WIRE_MIN_PKTSIZE));
  }
  knot_pkt_t* r = knot_pkt_new(s.wire.data(), static_cast<uint16_t>(max_size), s.arena.mm());
  if (r == nullptr || knot_pkt_init_response(r, q) != KNOT_EOK) throw std::bad_alloc();
  knot_wire_set_rcode(r->wire, static_cast<uint8_t>(KNOT_EDNS_RCODE_LO(plan.rcode)));
  if (plan.authoritative) knot_wire_set_aa(r->wire);

  knot_rrset_t opt;
  knot_rrset_init_empty(&opt);
  const bool echo_ecs = ecs.status != EcsStatus::Absent && ecs.status != EcsStatus::Malformed;
  if (edns && !build_opt(&opt, s.arena.mm(), our_payload, plan.rcode, echo_ecs ? &ecs : nullptr,
                         plan.ecs_scope))
    throw std::bad_alloc();
  // Room for the OPT is kept back so the records can never crowd it out.
  uint16_t opt_size = edns ? static_cast<uint16_t>(knot_edns_wire_size(&opt)) : 0;
  if (edns && knot_pkt_reserve(r, opt_size) != KNOT_EOK) throw std::bad_alloc();
  put_section(r, KNOT_ANSWER, plan.answer, plan.answer_owner_is_qname) &&
      put_section(r, KNOT_AUTHORITY, plan.authority, false) &&
      put_section(r, KNOT_ADDITIONAL, plan.additional, false);
  if (edns) {
    if (knot_pkt_begin(r, KNOT_ADDITIONAL) != KNOT_EOK ||
        knot_pkt_reclaim(r, opt_size) != KNOT_EOK ||
        knot_pkt_put(r, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_NOTRUNC) != KNOT_EOK)
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

void answer_parsed(Scratch& s, const ZoneConfig& zone, const Steering& steering,
                   const knot_pkt_t* q, const sockaddr_storage& from, bool over_tcp,
                   uint16_t our_payload, std::string& out) {
  uint16_t qtype = knot_pkt_qtype(q);
  EcsRead ecs;
  Plan& plan = s.plan;
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
      make_plan(Ctx{zone, steering, s.arena.mm(), plan}, q, from, ecs);
    }
  }
  write_response(s, q, over_tcp, our_payload, ecs, out);
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
    Scratch& s = scratch();
    s.arena.reset();  // the previous query's packets and records
    s.plan.reset();
    std::memcpy(s.query_copy.data(), query, len);
    knot_pkt_t* q = knot_pkt_new(s.query_copy.data(), static_cast<uint16_t>(len), s.arena.mm());
    if (q == nullptr) throw std::bad_alloc();
    if (knot_pkt_parse(q, 0) != KNOT_EOK || q->qname_size == 0) {
      dns::count_query(0, KNOT_RCODE_FORMERR);
      return header_only(query, KNOT_RCODE_FORMERR, out);
    }
    answer_parsed(s, zone, steering, q, from, over_tcp, udp_max_payload, out);
  } catch (const std::exception&) {
    // Out of memory, or a Steering that threw: SERVFAIL, never an exception into the event loop.
    dns::count_query(0, KNOT_RCODE_SERVFAIL);
    header_only(query, KNOT_RCODE_SERVFAIL, out);
  }
}

}  // namespace cdn::geo
