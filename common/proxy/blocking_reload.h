#pragma once
// LL-HLS blocking playlist reload through a cache tier (RFC 8216bis §6.2.5.2). A request whose
// query carries `_HLS_msn` (with `_HLS_part`, `_HLS_skip`) asks the origin to hold the playlist
// until that part exists: up to three target durations. Such a request is an ordinary miss in
// every other way: it is keyed by its directives, coalesced with every viewer waiting for the
// same part (one upstream request per tier), and its answer is stored as the origin's
// Cache-Control says (the playlist for a given msn/part never changes).
//
// What differs is only how long it may wait for its first byte: the fill's upstream first-byte
// timeout and the queued viewers' cache-lock timeout become `timeouts.upstream_blocking_reload`
// for blocking requests (never shorter than the ordinary ones), and nothing else is raised.
//
// The key rule: the query minus the token and the operator's ignored parameters, sorted (key.h).
// The directives (every parameter named `_HLS_*`, a prefix the spec reserves for them) always stay
// in the key and in the upstream request, even when an operator lists them in
// `cache.ignore_query_params`: without them, viewers waiting for different parts would share one
// answer. Players add nothing else (hls.js, AVPlayer, ExoPlayer); a player's cache-buster is for
// the operator to list in `cache.ignore_query_params`.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::proxy {

// True when the query is a blocking playlist reload (it carries `_HLS_msn`).
bool is_blocking_reload(std::string_view query);

// True for the parameters the key must keep whatever the operator ignores (`_HLS_` prefix).
bool is_hls_directive(std::string_view param_name);

// `excluded` without the LL-HLS directives (see the key rule above).
std::vector<std::string> without_hls_directives(std::vector<std::string> excluded);

// How long a request with this query may wait for its first byte: `ordinary_ms`, or for a
// blocking reload the longer of it and `blocking_ms`.
int64_t first_byte_wait_ms(std::string_view query, int64_t ordinary_ms, int64_t blocking_ms);

// One viewer parked on a blocking reload until its response head: counted by the gauge
// `cdn_blocking_reloads_waiting` (what the fan-out costs a tier, and what tests poll for).
class ParkedViewer {
 public:
  ParkedViewer() = default;
  ParkedViewer(const ParkedViewer&) = delete;
  ParkedViewer& operator=(const ParkedViewer&) = delete;
  ~ParkedViewer() { leave(); }
  void park();   // counted from now (once)
  void leave();  // no longer counted

 private:
  bool parked_ = false;
};

}  // namespace cdn::proxy
