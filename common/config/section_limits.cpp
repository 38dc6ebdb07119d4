// timeouts and limits sections.
#include <algorithm>

#include "common/config/sections.h"

namespace cdn::config::sections {

void read_timeouts(MapReader& m, TimeoutsConfig& out) {
  constexpr int64_t kDay = 86'400'000;
  set(out.header_read_ms, m.get_duration_ms("header_read", 1, kDay));
  set(out.keepalive_idle_ms, m.get_duration_ms("keepalive_idle", 0, kDay));
  set(out.send_stall_ms, m.get_duration_ms("send_stall", 1, kDay));
  set(out.upstream_connect_ms, m.get_duration_ms("upstream_connect", 1, kDay));
  set(out.upstream_first_byte_ms, m.get_duration_ms("upstream_first_byte", 1, kDay));
  set(out.upstream_idle_ms, m.get_duration_ms("upstream_idle", 0, kDay));
  set(out.drain_ms, m.get_duration_ms("drain", 0, kDay));
  set(out.drain_grace_ms, m.get_duration_ms("drain_grace", 0, kDay));

  // Flow control (issue 8).
  set(out.cache_lock_ms, m.get_duration_ms("cache_lock", 1, kDay));
  set(out.upstream_blocking_reload_ms, m.get_duration_ms("upstream_blocking_reload", 1, kDay));
}

namespace {

void read_client_limits(MapReader& m, LimitsConfig& out) {
  set(out.max_connections_per_client, m.get_int("max_connections_per_client", 0, 10'000'000));
  set(out.requests_per_second_per_client,
      m.get_int("requests_per_second_per_client", 0, 1'000'000));
  set(out.request_burst_per_client, m.get_int("request_burst_per_client", 0, 10'000'000));
  set(out.client_ipv4_prefix, m.get_int("client_ipv4_prefix", 8, 32));
  set(out.client_ipv6_prefix, m.get_int("client_ipv6_prefix", 16, 128));
  if (out.request_burst_per_client > 0 && out.requests_per_second_per_client == 0)
    m.error("request_burst_per_client", "needs requests_per_second_per_client");
}

}  // namespace

void read_limits(MapReader& m, LimitsConfig& out) {
  set(out.max_url_bytes, m.get_size("max_url_bytes", 64, 65536));
  set(out.max_header_bytes, m.get_size("max_header_bytes", 1024, 1 << 20));
  auto field = m.get_size("max_field_bytes", 64, 1 << 20);
  set(out.max_field_bytes, field);
  set(out.max_headers, m.get_int("max_headers", 1, 10'000));
  set(out.max_connections, m.get_int("max_connections", 1, 10'000'000));
  set(out.max_body_bytes, m.get_size("max_body_bytes", 0, 1ull << 40));
  if (auto a = m.get_enum("escaped_slashes", {"refuse", "keep"})) out.keep_escaped_slashes = *a == "keep";
  if (out.max_url_bytes > out.max_header_bytes)
    m.error("max_url_bytes", "must not exceed max_header_bytes (" +
                                 std::to_string(out.max_header_bytes) + ")");
  // The field cap defaults below the head limit; only an explicit larger value is a mistake.
  if (field && out.max_field_bytes > out.max_header_bytes)
    m.error("max_field_bytes", "must not exceed max_header_bytes (" + std::to_string(out.max_header_bytes) + ")");
  out.max_field_bytes = std::min(out.max_field_bytes, out.max_header_bytes);
  read_client_limits(m, out);

  // Flow control (issue 8).
  set(out.send_buffer_bytes, m.get_size("send_buffer_bytes", 4096, 64ull << 20));
}

}  // namespace cdn::config::sections
