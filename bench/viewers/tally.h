#pragma once
// What the players of one process counted, over one second or the whole run: additive, so the
// parent process merges its children's tallies, and serializable as one JSON object per line on
// the pipe between them.
#include <cstdint>
#include <map>
#include <string>

#include "bench/viewers/histogram.h"
#include "common/auth/json.h"
#include "common/util/result.h"

namespace cdn::viewers {

struct Tally {
  uint64_t joins = 0, leaves = 0;
  uint64_t segments = 0, segment_bytes = 0;    // body bytes of segments
  uint64_t playlists = 0, playlist_bytes = 0;  // master and media playlists (bodies)
  uint64_t wire_bytes = 0;                     // every byte read from sockets (TLS included)
  uint64_t stalls = 0;
  uint64_t missed_segments = 0;  // segments a player never got (window passed, or given up)
  uint64_t discontinuities = 0;
  uint64_t blocking_reloads = 0;
  uint64_t connects = 0, tls_resumed = 0;
  double played_s = 0, stalled_s = 0;                // media seconds played, seconds stalled
  std::map<std::string, uint64_t> errors_by_status;  // "404", "503"; "0" for transport failures
  std::map<std::string, uint64_t> errors_by_reason;  // X-Error-Reason, or the transport failure
  Histogram startup_us;                              // join -> first segment received
  Histogram segment_us;                              // request sent -> last byte of a segment

  uint64_t errors() const;
  void add_error(int status, const std::string& reason);
  void merge(const Tally& o);
  // stalled / played; 0 when nothing played.
  double rebuffer_ratio() const { return played_s > 0 ? stalled_s / played_s : 0; }
};

auth::json::Value to_json(const Tally& t);
Result<Tally> tally_from_json(const auth::json::Value& v);

// JSON helpers for the reports.
auth::json::Value json_uint(uint64_t v);
auth::json::Value json_real(double v);

}  // namespace cdn::viewers
