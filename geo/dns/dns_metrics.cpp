#include "geo/dns/dns_metrics.h"

#include <array>
#include <atomic>
#include <string>

#include "geo/dns/knot.h"

namespace cdn::geo::dns {
namespace {

constexpr const char* kQueriesHelp = "DNS queries answered, by query type and response code";

// A label value for a code; each table ends with the catch-all "other".
template <typename Code>
struct Label {
  Code code;
  const char* name;
};

template <typename Code, size_t N>
size_t label_index(const std::array<Label<Code>, N>& table, Code code) {
  for (size_t i = 0; i + 1 < N; ++i)
    if (table[i].code == code) return i;
  return N - 1;
}

constexpr std::array<Label<uint16_t>, 12> kQtypes = {{
    {KNOT_RRTYPE_A, "A"},
    {KNOT_RRTYPE_AAAA, "AAAA"},
    {KNOT_RRTYPE_SOA, "SOA"},
    {KNOT_RRTYPE_NS, "NS"},
    {KNOT_RRTYPE_ANY, "ANY"},
    {KNOT_RRTYPE_CNAME, "CNAME"},
    {KNOT_RRTYPE_MX, "MX"},
    {KNOT_RRTYPE_TXT, "TXT"},
    {KNOT_RRTYPE_HTTPS, "HTTPS"},
    {KNOT_RRTYPE_PTR, "PTR"},
    {KNOT_RRTYPE_AXFR, "AXFR"},
    {0, "other"},
}};

constexpr std::array<Label<int>, 8> kRcodes = {{
    {KNOT_RCODE_NOERROR, "NOERROR"},
    {KNOT_RCODE_FORMERR, "FORMERR"},
    {KNOT_RCODE_SERVFAIL, "SERVFAIL"},
    {KNOT_RCODE_NXDOMAIN, "NXDOMAIN"},
    {KNOT_RCODE_NOTIMPL, "NOTIMP"},
    {KNOT_RCODE_REFUSED, "REFUSED"},
    {KNOT_RCODE_BADVERS, "BADVERS"},
    {-1, "other"},
}};

// Looked up once: the registry takes a mutex per lookup, a query must not. Query series are looked
// up on first use (96 combinations at zero would bury the ones that happen); two threads racing
// there get the same counter from the registry.
struct Series {
  std::array<std::array<std::atomic<obs::Counter*>, kRcodes.size()>, kQtypes.size()> queries{};
  obs::Counter* dropped;
  std::array<obs::Counter*, 5> ecs{};
  obs::Counter* truncated;
  obs::Counter* tcp_refused;

  Series() {
    auto& m = obs::metrics();
    dropped = &m.counter("cdn_dns_queries_total", kQueriesHelp,
                         {{"qtype", "none"}, {"rcode", "dropped"}});
    const char* ecs_names[] = {"used", "unused", "ignored-private", "source-zero", "formerr"};
    for (size_t i = 0; i < ecs.size(); ++i)
      ecs[i] = &m.counter("cdn_dns_ecs_total",
                          "Queries with an EDNS Client Subnet option, by what was done with it",
                          {{"result", ecs_names[i]}});
    truncated = &m.counter("cdn_dns_truncated_total", "UDP answers sent truncated (TC set)");
    tcp_refused =
        &m.counter("cdn_dns_tcp_refused_total",
                   "DNS TCP connections closed at accept because max_tcp_connections were open");
  }
};

Series& series() {
  static Series s;
  return s;
}

}  // namespace

void count_query(uint16_t qtype, int rcode) {
  size_t q = label_index(kQtypes, qtype), r = label_index(kRcodes, rcode);
  auto& slot = series().queries[q][r];
  obs::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &obs::metrics().counter("cdn_dns_queries_total", kQueriesHelp,
                                {{"qtype", kQtypes[q].name}, {"rcode", kRcodes[r].name}});
    slot.store(c, std::memory_order_release);
  }
  c->inc();
}
void count_dropped_query() {
  series().dropped->inc();
}
void count_ecs(EcsResult result) {
  series().ecs[static_cast<size_t>(result)]->inc();
}
void count_truncated() {
  series().truncated->inc();
}
void count_tcp_refused() {
  series().tcp_refused->inc();
}
void register_dns_metrics() {
  series();
}

}  // namespace cdn::geo::dns
