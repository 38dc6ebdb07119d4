#pragma once
// Channel management of a running origin: adds, removals and key rotations from the admin API and
// the config file's channels re-read on SIGHUP, combined (ChannelOverlay), validated, persisted in
// the live store, then applied: LiveChannels publishes a new table and LiveIngest cuts the pushes
// it no longer admits and binds or closes UDP inputs. Channels not changed are not touched.
//
// Not thread-safe on purpose: every call runs on the live service's one job thread, so changes
// are serialized without a lock any request path could meet.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "origin-shield/origin/live_channel_overlay.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_ingest.h"
#include "origin-shield/origin/live_storage.h"

namespace cdn::origin {

// An admin answer: status, and JSON body or an error reason.
struct AdminOutcome {
  int status = 200;
  std::string reason;  // set for errors
  std::string body;    // JSON
  static AdminOutcome error(int status, std::string reason) {
    return {status, std::move(reason), {}};
  }
};

// The overlay the store holds, pruned against the file (persisting the pruning). A store whose
// overlay cannot be read keeps the file's channels only (logged and counted).
ChannelOverlay load_overlay(LiveStorage& storage, const std::vector<LiveChannelConfig>& file);

class LiveChannelControl {
 public:
  LiveChannelControl(const LiveConfig& file_cfg, ChannelOverlay overlay,
                     std::shared_ptr<LiveStorage> storage, LiveChannels& channels,
                     LiveIngest& ingest)
      : file_cfg_(file_cfg),
        overlay_(std::move(overlay)),
        storage_(std::move(storage)),
        channels_(channels),
        ingest_(ingest) {}

  AdminOutcome list();
  // `key_generated`: the key was made here, so the answer shows it (once).
  AdminOutcome add(LiveChannelConfig ch, bool key_generated);
  AdminOutcome remove(const std::string& name);
  // `key`: the new key, or nullopt to generate one (returned in the answer).
  AdminOutcome rotate_key(const std::string& name, std::optional<std::string> key);
  // A config file re-read on SIGHUP (already validated as at start); refuses what cannot apply
  // live (the store, the playlist shape) or clashes with API-added channels. Errors keep the
  // running channels as they are.
  Result<void> reload(const LiveConfig& cfg);

 private:
  // Persists the overlay, then applies the channels in effect; the answer for a change.
  LiveChannels::Change commit();

  LiveConfig file_cfg_;
  ChannelOverlay overlay_;
  std::shared_ptr<LiveStorage> storage_;
  LiveChannels& channels_;
  LiveIngest& ingest_;
};

// A new random stream key (32 hex digits).
std::string generate_stream_key();
// "sha256:" and the first 16 hex digits of the key's SHA-256: tells keys apart, reveals nothing.
std::string key_fingerprint(std::string_view key);

}  // namespace cdn::origin
