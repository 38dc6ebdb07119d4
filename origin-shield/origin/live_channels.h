#pragma once
// Every rendition the live origin serves: the configured ones (which take ingest) and those only in
// the store (packaged VOD, channels removed from the config, served read-only). Built and restored
// once at startup and never changed afterwards, so any thread looks a rendition up without a lock;
// each rendition guards its own state.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_rendition.h"
#include "origin-shield/origin/live_storage.h"

namespace cdn::origin {

class LiveChannels {
 public:
  // Creates the renditions and restores their playlists from the storage.
  LiveChannels(const LiveConfig& cfg, const std::shared_ptr<LiveStorage>& storage);
  LiveChannels(const LiveChannels&) = delete;
  LiveChannels& operator=(const LiveChannels&) = delete;

  LiveRendition* find(std::string_view channel, std::string_view rendition) const;
  // The channel's renditions (configured first, in config order); empty if unknown.
  const std::vector<LiveRendition*>& channel(std::string_view name) const;
  const std::vector<std::unique_ptr<LiveRendition>>& all() const { return renditions_; }

 private:
  LiveRendition& add(const std::string& channel, const std::string& name, bool configured, bool vod,
                     RenditionSettings settings, const std::shared_ptr<LiveStorage>& storage);

  std::vector<std::unique_ptr<LiveRendition>> renditions_;
  std::map<std::string, std::vector<LiveRendition*>, std::less<>> by_channel_;
};

}  // namespace cdn::origin
