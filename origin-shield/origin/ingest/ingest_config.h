#pragma once
// The `live.srt` and `live.rtmp` config sections: where the SRT and RTMP ingest listeners bind and
// how they behave. Read by read_live_section (after the channels, which the SRT passphrase checks).
#include <cstdint>
#include <optional>
#include <string>

#include "common/config/parse_units.h"
#include "origin-shield/origin/ingest/srt_url.h"

namespace cdn::config {
class MapReader;
}

namespace cdn::origin {

struct LiveConfig;

struct SrtIngestConfig {
  std::optional<config::HostPort> listen;  // none: no SRT listener
  int64_t latency_ms = 120;                // SRTO_LATENCY (receiver buffer delay)
  bool encrypt = false;                    // the channel's stream key is the SRT passphrase
  bool operator==(const SrtIngestConfig&) const = default;
};

struct RtmpIngestConfig {
  std::optional<config::HostPort> listen;      // none: no RTMP listener
  std::optional<config::HostPort> tls_listen;  // rtmps (RTMP over TLS); none: no such listener
  std::string certificate, private_key;        // PEM files for tls_listen
  int64_t handshake_timeout_ms = 5'000;        // TCP accept to publish
  int64_t idle_timeout_ms = 10'000;            // publishing without a media message
  uint64_t max_message_bytes = 4 << 20;        // one RTMP message (a video frame)
  bool operator==(const RtmpIngestConfig&) const = default;
};

// A rendition's pulled inputs: the origin calls an SRT listener (an encoder or a gateway).
struct RenditionIngestConfig {
  std::optional<ingest::SrtPullUrl> srt_pull, srt_pull_backup;
  bool operator==(const RenditionIngestConfig&) const = default;
};

struct IngestConfig {
  SrtIngestConfig srt;
  RtmpIngestConfig rtmp;
  bool operator==(const IngestConfig&) const = default;
};

// Reads `srt:` and `rtmp:` of the live section into live_cfg.ingest (channels already read).
void read_ingest_config(config::MapReader& live, LiveConfig& live_cfg);
// Reads a rendition's `srt_pull` / `srt_pull_backup`.
void read_rendition_ingest(config::MapReader& rendition, RenditionIngestConfig& out);

}  // namespace cdn::origin
