#pragma once
// HTTP/2 limits and the per-connection counters behind the flood defences (RFC 9113 §10.5 and
// the attacks since: Rapid Reset, CVE-2023-44487; CONTINUATION floods, 2024). Each limit that a
// client crosses ends its connection with GOAWAY ENHANCE_YOUR_CALM, or its stream with RST_STREAM,
// and is counted in cdn_http2_refused_total{reason}.
#include <cstdint>

namespace cdn::http {

struct H2Options {
  bool h2c = false;  // HTTP/2 with prior knowledge on plain listeners (tests, internal hops)
  uint32_t max_concurrent_streams = 100;
  uint32_t header_table_bytes = 4096;      // our HPACK decoder's dynamic table
  uint32_t max_header_list_bytes = 32768;  // one request's decoded header list (RFC 9113 §6.5.2)
  uint32_t max_continuations = 8;          // CONTINUATION frames after one HEADERS
  uint32_t max_resets = 100;               // client RST_STREAMs per flood interval
  uint32_t max_control_frames = 100;       // SETTINGS and PING frames per flood interval
  uint32_t max_empty_data = 100;           // DATA frames with no payload and no END_STREAM
  // Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE): what a request body's client
  // may send ahead of the upstream taking it, so what one stalled upload holds beyond the
  // pass-through's own high-water mark.
  uint32_t stream_window_bytes = 256 * 1024;
  int64_t flood_interval_ms = 1000;
};

// Events in the current fixed window of `interval_ms`; hit() says whether `limit` was passed.
class WindowCounter {
 public:
  bool hit(int64_t now_ms, int64_t interval_ms, uint32_t limit) {
    if (now_ms - start_ms_ >= interval_ms) {
      start_ms_ = now_ms;
      count_ = 0;
    }
    return ++count_ > limit;
  }

 private:
  int64_t start_ms_ = 0;
  uint32_t count_ = 0;
};

}  // namespace cdn::http
