// http2 section: HTTP/2 to viewers and its limits (issue 13).
#include "common/config/sections.h"

namespace cdn::config::sections {

void read_http2(MapReader& m, Http2Config& out) {
  set(out.enabled, m.get_bool("enabled"));
  set(out.h2c, m.get_bool("h2c"));
  set(out.max_concurrent_streams, m.get_int("max_concurrent_streams", 1, 10'000));
  set(out.header_table_bytes, m.get_size("header_table_bytes", 0, 1 << 20));
  set(out.max_header_list_bytes, m.get_size("max_header_list_bytes", 1024, 1 << 20));
  set(out.max_continuations, m.get_int("max_continuations", 0, 1000));
  set(out.max_resets, m.get_int("max_resets", 1, 1'000'000));
  set(out.max_control_frames, m.get_int("max_control_frames", 1, 1'000'000));
  set(out.max_empty_data, m.get_int("max_empty_data", 1, 1'000'000));
  set(out.stream_window_bytes, m.get_size("stream_window_bytes", 16 * 1024, 16 << 20));
  set(out.flood_interval_ms, m.get_duration_ms("flood_interval", 1, 3'600'000));
}

}  // namespace cdn::config::sections
