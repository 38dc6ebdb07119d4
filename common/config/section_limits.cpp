// timeouts and limits sections.
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

  // Flow control (issue 8).
  set(out.cache_lock_ms, m.get_duration_ms("cache_lock", 1, kDay));
}

void read_limits(MapReader& m, LimitsConfig& out) {
  set(out.max_url_bytes, m.get_size("max_url_bytes", 64, 65536));
  set(out.max_header_bytes, m.get_size("max_header_bytes", 1024, 1 << 20));
  set(out.max_headers, m.get_int("max_headers", 1, 10'000));
  set(out.max_connections, m.get_int("max_connections", 1, 10'000'000));
  set(out.max_body_bytes, m.get_size("max_body_bytes", 0, 1ull << 40));
  if (out.max_url_bytes > out.max_header_bytes)
    m.error("max_url_bytes", "must not exceed max_header_bytes (" +
                                 std::to_string(out.max_header_bytes) + ")");

  // Flow control (issue 8).
  set(out.send_buffer_bytes, m.get_size("send_buffer_bytes", 4096, 64ull << 20));
}

}  // namespace cdn::config::sections
