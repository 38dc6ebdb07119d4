#include "origin-shield/origin/live_channels.h"

namespace cdn::origin {

namespace {

constexpr size_t kMemorySlack = 4;  // segments kept in memory beyond the live window

RenditionSettings settings_for(const LiveConfig& cfg, bool configured) {
  RenditionSettings s;
  s.target_duration_s = double(cfg.target_duration_ms) / 1000;
  s.input_gap_ms = cfg.input_gap_ms;
  s.memory_segments = cfg.window_segments + kMemorySlack;
  if (configured) {
    s.playlist.target_duration_s = s.target_duration_s;
    s.playlist.window_segments = cfg.window_segments;
    s.playlist.dvr_window_s = double(cfg.dvr_window_ms) / 1000;
  } else {
    s.playlist = vod_playlist_config(s.target_duration_s);
  }
  return s;
}

}  // namespace

LiveChannels::LiveChannels(const LiveConfig& cfg, const std::shared_ptr<LiveStorage>& storage) {
  for (auto& ch : cfg.channels)
    for (auto& rc : ch.renditions)
      add(ch.name, rc.name, true, false, settings_for(cfg, true), storage);
  std::map<LiveRendition*, RenditionMeta> stored;
  for (auto& sr : storage->stored_renditions()) {
    LiveRendition* r = find(sr.channel, sr.name);
    if (!r) r = &add(sr.channel, sr.name, false, true, settings_for(cfg, false), storage);
    stored[r] = std::move(sr.meta);
  }
  for (auto& r : renditions_) {
    auto it = stored.find(r.get());
    r->restore(it == stored.end() ? std::nullopt : std::optional<RenditionMeta>(it->second),
               storage->playlist_state(r->channel(), r->name()));
  }
}

LiveRendition& LiveChannels::add(const std::string& channel, const std::string& name,
                                 bool configured, bool vod, RenditionSettings settings,
                                 const std::shared_ptr<LiveStorage>& storage) {
  renditions_.push_back(std::make_unique<LiveRendition>(channel, name, configured, vod,
                                                        std::move(settings), storage));
  by_channel_[channel].push_back(renditions_.back().get());
  return *renditions_.back();
}

LiveRendition* LiveChannels::find(std::string_view channel, std::string_view rendition) const {
  for (LiveRendition* r : this->channel(channel))
    if (r->name() == rendition) return r;
  return nullptr;
}

const std::vector<LiveRendition*>& LiveChannels::channel(std::string_view name) const {
  static const std::vector<LiveRendition*> none;
  auto it = by_channel_.find(name);
  return it == by_channel_.end() ? none : it->second;
}

}  // namespace cdn::origin
