#pragma once
// The origin's `live:` config section: where segments are stored, the playlist shape, and the
// channels with their stream keys and renditions (each with optional UDP inputs).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/parse_units.h"
#include "origin-shield/origin/ingest/ingest_config.h"

namespace cdn::config {
class MapReader;
}

namespace cdn::origin {

struct LiveRenditionConfig {
  std::string name;
  std::optional<config::HostPort> udp;         // primary UDP (MPEG-TS) input
  std::optional<config::HostPort> udp_backup;  // backup UDP input
  RenditionIngestConfig ingest;                // SRT pulls
  bool operator==(const LiveRenditionConfig&) const = default;
};

// What a channel's renditions are served as (`formats: [ts, fmp4, llhls, dash]`; llhls and dash
// imply fmp4).
struct LiveFormats {
  bool ts = true;
  bool fmp4 = false;
  bool llhls = false;  // fMP4 playlist with parts, blocking reload, preload hints
  bool dash = false;   // a DASH MPD per channel over the same segments, one file per track
  // `lldash`: DASH with parts (implies llhls and dash): the MPD's availabilityTimeOffset lets
  // players ask for the segment in progress, which is sent as it is written. Opt-in: dash.js
  // stalls chasing it while the SegmentTimeline lists complete segments only.
  bool lldash = false;
  bool low_latency_dash() const { return lldash && dash && llhls; }
  bool operator==(const LiveFormats&) const = default;
};

struct LiveChannelConfig {
  std::string name;
  std::string stream_key;
  std::vector<LiveRenditionConfig> renditions;
  LiveFormats formats;
  bool operator==(const LiveChannelConfig&) const = default;
};

struct LiveConfig {
  bool enabled = false;  // a live: section was given
  std::string store_path;
  int64_t target_duration_ms = 2'000;
  int64_t part_target_ms = 500;  // LL-HLS part target
  uint32_t window_segments = 6;
  int64_t dvr_window_ms = 600'000;
  int64_t input_gap_ms = 3'000;
  std::vector<LiveChannelConfig> channels;
  IngestConfig ingest;  // live.srt, live.rtmp

  const LiveChannelConfig* channel(std::string_view name) const;
};

// A name usable as one URL path segment and RocksDB key part: [A-Za-z0-9._-], 1..64, not "." /
// "..".
bool valid_live_name(std::string_view name);

// A stream key usable in a URL query and a header: 1-256 printable ASCII, no spaces.
bool valid_stream_key(std::string_view key);

// Why `ch` cannot join `others` (the other channels in effect), as a short reason for a 400, or
// nullopt. Channels added through the admin API get the same rules as the config file's.
std::optional<std::string> channel_problem(const LiveChannelConfig& ch,
                                           const std::vector<LiveChannelConfig>& others);

// Reads the optional top-level `live:` section (Program::Hooks::extra_sections).
void read_live_section(config::MapReader& root, LiveConfig& out);

}  // namespace cdn::origin
