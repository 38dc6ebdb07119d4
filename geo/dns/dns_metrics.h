#pragma once
// The DNS side's Prometheus series. Label values come from small fixed sets (a query type outside
// the common ones is "other"), so no query can create a new series.
#include <cstdint>

#include "common/obs/metrics.h"

namespace cdn::geo::dns {

enum class EcsResult { Used, Unused, IgnoredPrivate, SourceZero, Formerr };

// cdn_dns_queries_total{qtype,rcode}; rcode "dropped" for queries that get no answer.
void count_query(uint16_t qtype, int rcode);
void count_dropped_query();
// cdn_dns_ecs_total{result}
void count_ecs(EcsResult result);
// cdn_dns_truncated_total
void count_truncated();
// cdn_dns_tcp_refused_total: connections closed at accept (max_tcp_connections reached)
void count_tcp_refused();
// Registers every series at zero so /metrics shows them before the first query.
void register_dns_metrics();

}  // namespace cdn::geo::dns
