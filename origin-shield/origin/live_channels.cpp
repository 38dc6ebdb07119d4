#include "origin-shield/origin/live_channels.h"

#include <algorithm>
#include <cstdint>
#include <set>

namespace cdn::origin {

namespace {

constexpr size_t kMemorySlack = 4;  // segments kept in memory beyond the live window

RenditionSettings settings_for(const LiveConfig& cfg, bool live) {
  RenditionSettings s;
  s.target_duration_s = double(cfg.target_duration_ms) / 1000;
  s.part_target_s = double(cfg.part_target_ms) / 1000;
  s.input_gap_ms = cfg.input_gap_ms;
  s.memory_segments = cfg.window_segments + kMemorySlack;
  if (live) {
    s.playlist.target_duration_s = s.target_duration_s;
    s.playlist.window_segments = cfg.window_segments;
    s.playlist.dvr_window_s = double(cfg.dvr_window_ms) / 1000;
  } else {
    s.playlist = vod_playlist_config(s.target_duration_s);
    // A packaged fMP4/DASH VOD is served from memory, like an ended live stream's window (read
    // from the store at start): every segment of it.
    s.memory_segments = SIZE_MAX;
  }
  return s;
}

const LiveChannelConfig* find_config(const std::vector<LiveChannelConfig>& v,
                                     std::string_view name) {
  for (auto& c : v)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

const ChannelView* ChannelTable::find(std::string_view channel) const {
  auto it = channels.find(channel);
  return it == channels.end() ? nullptr : &it->second;
}

LiveRendition* ChannelTable::find(std::string_view channel, std::string_view rendition) const {
  const ChannelView* v = find(channel);
  if (!v) return nullptr;
  for (LiveRendition* r : v->renditions)
    if (r->name() == rendition) return r;
  return nullptr;
}

LiveChannels::LiveChannels(const LiveConfig& cfg, const std::shared_ptr<LiveStorage>& storage)
    : live_settings_(settings_for(cfg, true)),
      vod_settings_(settings_for(cfg, false)),
      storage_(storage) {
  std::lock_guard lk(write_mu_);
  for (auto& ch : cfg.channels)
    for (auto& rc : ch.renditions) create({ch.name, rc.name}, true, false).set_formats(ch.formats);
  std::map<LiveRendition*, RenditionMeta> stored;
  for (auto& sr : storage->stored_renditions()) {
    Key key{sr.channel, sr.name};
    auto it = renditions_.find(key);
    // A live rendition no channel takes ingest for (its channel was removed) keeps its live
    // playlist shape, so its segments still expire with the DVR window.
    LiveRendition* r =
        it != renditions_.end() ? it->second.get() : &create(key, false, sr.meta.vod);
    if (r->vod()) r->set_formats(sr.meta.formats);  // what it was packaged in
    stored[r] = std::move(sr.meta);
  }
  for (auto& [key, r] : renditions_) {
    auto it = stored.find(r.get());
    r->restore(it == stored.end() ? std::nullopt : std::optional<RenditionMeta>(it->second),
               storage->playlist_state(key.first, key.second));
  }
  in_effect_ = cfg.channels;
  publish();
}

LiveRendition& LiveChannels::create(const Key& key, bool ingest, bool vod) {
  auto& slot = renditions_[key];
  if (slot) retired_.push_back(std::move(slot));
  slot = std::make_unique<LiveRendition>(key.first, key.second, ingest, vod,
                                         vod ? vod_settings_ : live_settings_, storage_);
  return *slot;
}

void LiveChannels::restore_from_store(LiveRendition& r) {
  std::optional<RenditionMeta> meta;
  for (auto& sr : storage_->stored_renditions())
    if (sr.channel == r.channel() && sr.name == r.name()) meta = std::move(sr.meta);
  if (meta && r.vod()) r.set_formats(meta->formats);
  r.restore(meta, storage_->playlist_state(r.channel(), r.name()));
}

LiveChannels::Change LiveChannels::apply(const std::vector<LiveChannelConfig>& channels) {
  std::lock_guard lk(write_mu_);
  Change change;
  std::set<Key> ingest;
  for (auto& ch : channels) {
    for (auto& rc : ch.renditions) {
      Key key{ch.name, rc.name};
      ingest.insert(key);
      auto it = renditions_.find(key);
      if (it == renditions_.end()) {
        create(key, true, false).restore(std::nullopt, std::nullopt);
      } else if (it->second->vod()) {
        // A packaged rendition's name taken by a live channel: its playlist continues live, as
        // it would after a restart.
        storage_->flush();
        restore_from_store(create(key, true, false));
      } else {
        it->second->set_ingest(true);
      }
      renditions_.at(key)->set_formats(ch.formats);
    }
    const LiveChannelConfig* before = find_config(in_effect_, ch.name);
    if (!before)
      change.added.push_back(ch.name);
    else if (before->renditions != ch.renditions)
      change.redefined.push_back(ch.name);
    else if (before->stream_key != ch.stream_key)
      change.rekeyed.push_back(ch.name);
  }
  for (auto& [key, r] : renditions_)
    if (!ingest.count(key)) r->set_ingest(false);
  for (auto& ch : in_effect_)
    if (!find_config(channels, ch.name)) change.removed.push_back(ch.name);
  in_effect_ = channels;
  publish();
  return change;
}

bool LiveChannels::load_packaged(const std::string& channel, const std::string& rendition) {
  std::lock_guard lk(write_mu_);
  // A live channel took the name while the file was packaged: its stream stays (the packaged
  // segments are overwritten by its own as its sequence goes on).
  if (auto it = renditions_.find({channel, rendition}); it != renditions_.end() && it->second->configured())
    return false;
  restore_from_store(create({channel, rendition}, false, true));
  publish();
  return true;
}

void LiveChannels::publish() {
  auto t = std::make_shared<ChannelTable>();
  for (auto& ch : in_effect_) {
    ChannelView& v = t->channels[ch.name];
    v.ingest = std::make_shared<const LiveChannelConfig>(ch);
    for (auto& rc : ch.renditions) v.renditions.push_back(renditions_.at({ch.name, rc.name}).get());
    v.master = v.renditions;
  }
  for (auto& [key, r] : renditions_) {
    t->all.push_back(r.get());
    ChannelView& v = t->channels[key.first];
    if (v.ingest && r->configured()) continue;  // listed above, in definition order
    v.renditions.push_back(r.get());
    if (!v.ingest) v.master.push_back(r.get());
  }
  table_.store(std::move(t));
}

LiveRendition* LiveChannels::find(std::string_view channel, std::string_view rendition) const {
  return table()->find(channel, rendition);
}

std::vector<LiveRendition*> LiveChannels::channel(std::string_view name) const {
  auto t = table();
  const ChannelView* v = t->find(name);
  return v ? v->master : std::vector<LiveRendition*>();
}

}  // namespace cdn::origin
