#pragma once
// The live origin's storage unit: what a rendition persists (segments, playlist state, codec
// metadata) on top of SegmentStore, and asynchronous segment reads for serving. Writes are queued
// to the store's writer thread in submission order, so callers (ingest, under a rendition's lock)
// never wait for the disk; reads run on libuv's thread pool.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.h"
#include "origin-shield/origin/live/live_playlist.h"
#include "origin-shield/origin/live/segmenter.h"
#include "origin-shield/origin/live_cmaf_store.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/segment_store.h"

typedef struct uv_loop_s uv_loop_t;

namespace cdn::origin {

// Rendition metadata kept beside the playlist state (codec facts for the master after restart).
struct RenditionMeta {
  bool vod = false;  // packaged from a file, no ingest
  live::MediaInfo media;
  // What a packaged VOD was made in (vod_formats.h); a live rendition takes its channel's.
  LiveFormats formats;
  std::string encode() const;
  static RenditionMeta decode(std::string_view s);
};

// Playlist shape for packaged VOD: every segment in one playlist.
live::LivePlaylistConfig vod_playlist_config(double target_duration_s);

class LiveStorage {
 public:
  static Result<std::shared_ptr<LiveStorage>> open(const std::string& path);

  struct StoredRendition {
    std::string channel, name;
    RenditionMeta meta;
  };
  // Every rendition with stored metadata (configured live ones and packaged VOD).
  std::vector<StoredRendition> stored_renditions() const;
  std::optional<std::string> playlist_state(std::string_view channel,
                                            std::string_view rendition) const;

  // One atomic batch: the segment, the playlist state that lists it and (if not empty) the meta.
  void save_segment(std::string_view channel, std::string_view rendition, uint64_t seq,
                    int64_t completed_ms, std::string data, std::string state, std::string meta);
  void save_state(std::string_view channel, std::string_view rendition, std::string state);
  void remove_segments(std::string_view channel, std::string_view rendition,
                       std::vector<uint64_t> seqs);
  // Blocks until every queued write is done.
  void flush();

  // fMP4 output (live_cmaf_store.h): what CmafOutput persists, and what it gets back at startup.
  CmafPersist cmaf_persist(std::string channel, std::string rendition);
  CmafRestored load_cmaf(std::string_view channel, std::string_view rendition) const;

  // The admin API's channel changes (ChannelOverlay::serialize()), if any were stored.
  std::optional<std::string> channel_overlay() const;
  void save_channel_overlay(std::string json);
  // For packaging into the store while the origin runs.
  const std::shared_ptr<SegmentStore>& segment_store() const { return store_; }

  // Reads one segment on the loop's thread pool; `done` runs on the loop (nullopt: not stored).
  // False if the pool refused the work (done is not called).
  using ReadDone = std::function<void(std::optional<StoredSegment>)>;
  bool read_segment(uv_loop_t* loop, std::string channel, std::string rendition, uint64_t seq,
                    ReadDone done);

 private:
  explicit LiveStorage(std::shared_ptr<SegmentStore> store) : store_(std::move(store)) {}
  std::shared_ptr<SegmentStore> store_;
};

}  // namespace cdn::origin
