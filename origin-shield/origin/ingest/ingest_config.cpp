#include "origin-shield/origin/ingest/ingest_config.h"

#include "common/config/reader.h"
#include "common/config/sections.h"
#include "origin-shield/origin/live_config.h"

namespace cdn::origin {

namespace {
// libsrt accepts passphrases of 10..79 bytes (SRTO_PASSPHRASE).
constexpr size_t kMinPassphrase = 10, kMaxPassphrase = 79;
}  // namespace

void read_ingest_config(config::MapReader& live, LiveConfig& live_cfg) {
  IngestConfig& out = live_cfg.ingest;
  if (live.has("srt")) {
    if (auto srt = live.get_map("srt")) {
      if (srt->has("listen")) out.srt.listen = srt->get_host_port("listen");
      config::set(out.srt.latency_ms, srt->get_duration_ms("latency", 20, 10'000));
      config::set(out.srt.encrypt, srt->get_bool("encrypt"));
      if (out.srt.encrypt)
        for (auto& ch : live_cfg.channels)
          if (ch.stream_key.size() < kMinPassphrase || ch.stream_key.size() > kMaxPassphrase)
            srt->error("encrypt", "channel \"" + ch.name +
                                      "\": an SRT passphrase (the stream key) must be 10-79 bytes");
      srt->finish();
    }
  }
  if (live.has("rtmp")) {
    if (auto rtmp = live.get_map("rtmp")) {
      if (rtmp->has("listen")) out.rtmp.listen = rtmp->get_host_port("listen");
      if (rtmp->has("tls_listen")) {
        out.rtmp.tls_listen = rtmp->get_host_port("tls_listen");
        // OBS and ffmpeg speak rtmps:// to it; the certificate is its own (a stream host name
        // need not be one the HTTP listeners serve).
        for (auto [key, into] : {std::pair{"certificate", &out.rtmp.certificate},
                                 std::pair{"private_key", &out.rtmp.private_key}}) {
          auto path = rtmp->get_string(config::required(key), false);
          if (!path) continue;
          config::sections::check_readable(*rtmp, key, *path, false);
          *into = *path;
        }
      }
      config::set(out.rtmp.handshake_timeout_ms,
                  rtmp->get_duration_ms("handshake_timeout", 100, 600'000));
      config::set(out.rtmp.idle_timeout_ms, rtmp->get_duration_ms("idle_timeout", 100, 600'000));
      config::set(out.rtmp.max_message_bytes,
                  rtmp->get_size("max_message_size", 64 << 10, 64 << 20));
      rtmp->finish();
    }
  }
}

void read_rendition_ingest(config::MapReader& r, RenditionIngestConfig& out) {
  for (const char* key : {"srt_pull", "srt_pull_backup"}) {
    if (!r.has(key)) continue;
    auto text = r.get_string(key, false);
    if (!text) continue;
    auto url = ingest::parse_srt_url(*text);
    if (!url)
      r.error(key, url.error().message);
    else
      (std::string_view(key) == "srt_pull" ? out.srt_pull : out.srt_pull_backup) = url.value();
  }
}

}  // namespace cdn::origin
