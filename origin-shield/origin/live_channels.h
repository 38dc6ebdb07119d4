#pragma once
// Every rendition the live origin serves: those of the channels in effect (which take ingest) and
// those only in the store (packaged VOD, channels removed, served read-only until their segments
// leave the DVR window). Lookups read an immutable ChannelTable swapped whole on every change
// (a SnapshotSlot), so a request takes no lock of the table's writers and a change of one channel
// never stalls another's ingest or serving. Rendition objects live as long as this: a pointer
// from any table stays valid, and a channel removed and added again continues its sequence.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_rendition.h"
#include "origin-shield/origin/live_storage.h"
#include "origin-shield/origin/snapshot_slot.h"

namespace cdn::origin {

struct ChannelView {
  // The channel's definition while it takes ingest (key, renditions, inputs); null: read-only.
  std::shared_ptr<const LiveChannelConfig> ingest;
  // Every rendition served under the channel: the ingest ones first, in definition order.
  std::vector<LiveRendition*> renditions;
  // The master playlist's: the ingest renditions, or every one of a read-only channel.
  std::vector<LiveRendition*> master;
};

struct ChannelTable {
  std::map<std::string, ChannelView, std::less<>> channels;
  std::vector<LiveRendition*> all;  // every served rendition (housekeeping)

  const ChannelView* find(std::string_view channel) const;
  LiveRendition* find(std::string_view channel, std::string_view rendition) const;
};

class LiveChannels {
 public:
  // Creates the renditions of cfg.channels and restores every rendition the storage holds.
  LiveChannels(const LiveConfig& cfg, const std::shared_ptr<LiveStorage>& storage);
  LiveChannels(const LiveChannels&) = delete;
  LiveChannels& operator=(const LiveChannels&) = delete;

  // Any thread, no lock but the slot's.
  std::shared_ptr<const ChannelTable> table() const { return table_.load(); }
  LiveRendition* find(std::string_view channel, std::string_view rendition) const;
  // The channel's master renditions; empty if unknown.
  std::vector<LiveRendition*> channel(std::string_view name) const;
  std::vector<LiveRendition*> all() const { return table()->all; }

  // Writers (any thread, serialized among themselves). Makes `channels` the ones in effect:
  // renditions of added channels open for ingest, those no longer in effect close (their streams
  // end), unchanged ones are not touched. Returns what changed, by channel name.
  struct Change {
    std::vector<std::string> added, removed, rekeyed, redefined;
    bool empty() const {
      return added.empty() && removed.empty() && rekeyed.empty() && redefined.empty();
    }
  };
  Change apply(const std::vector<LiveChannelConfig>& channels);
  // A rendition just packaged into the store: served read-only from what the store holds now
  // (the store must have been flushed). False if a live channel has taken that rendition since.
  bool load_packaged(const std::string& channel, const std::string& rendition);

 private:
  using Key = std::pair<std::string, std::string>;
  // With write_mu_ held:
  LiveRendition& create(const Key& key, bool ingest, bool vod);
  void restore_from_store(LiveRendition& r);
  void publish();

  const RenditionSettings live_settings_, vod_settings_;
  const std::shared_ptr<LiveStorage> storage_;
  std::mutex write_mu_;
  std::map<Key, std::unique_ptr<LiveRendition>> renditions_;
  // Replaced objects (a packaged rendition packaged again, or taken over by a live channel): kept,
  // as a reader may still hold a pointer from an older table.
  std::vector<std::unique_ptr<LiveRendition>> retired_;
  std::vector<LiveChannelConfig> in_effect_;
  SnapshotSlot<ChannelTable> table_;
};

}  // namespace cdn::origin
