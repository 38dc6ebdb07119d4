#pragma once
// One live rendition: its ingest inputs' arbitration, its keyframe segmenter, its playlist and the
// segments kept in memory. Ingest (HTTP pushes on any worker, UDP and housekeeping on worker 0)
// takes this rendition's own lock, never another's; serving never takes it: every change
// publishes an immutable snapshot (a SnapshotSlot: a refcounted pointer swapped under a lock of
// its own, held for one refcount increment) that readers load and keep as long as they need it.
//
// Inputs: any number of HTTP pushes plus the configured UDP sockets. One input is active; the
// others' bytes are dropped until the active one has been silent for input_gap (a primary push
// that reconnects after its connection closed takes over at once: encoder restart). Every takeover
// starts a new segmenter whose first segment carries EXT-X-DISCONTINUITY; the media sequence
// continues. When every input is silent for input_gap the playlist gets EXT-X-ENDLIST.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/obs/metrics.h"
#include "common/util/bytes.h"
#include "origin-shield/origin/ingest/param_set_repeater.h"
#include "origin-shield/origin/live/live_playlist.h"
#include "origin-shield/origin/live/segmenter.h"
#include "origin-shield/origin/live_cmaf_output.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_part_waiters.h"
#include "origin-shield/origin/live_storage.h"
#include "origin-shield/origin/snapshot_slot.h"

namespace cdn::origin {

// One ingest input of a rendition (an HTTP push or a UDP socket).
struct LiveSource {
  uint64_t id = 0;
  bool backup = false;
  std::string kind;  // "http" or "udp"
  std::atomic<bool> open{true};
};

struct MemSegment {
  Bytes data;
  int64_t completed_ms = 0;
};

// What serving needs of a rendition at one instant. Never changed once published.
struct RenditionSnapshot {
  Bytes live_text, event_text;  // playlists
  std::string live_etag, event_etag;
  int64_t modified_s = 0;
  bool ended = false;
  size_t segments = 0;  // in the playlist history
  uint64_t next_sequence = 0;
  int target_duration = 0;
  uint64_t peak_bandwidth = 0, average_bandwidth = 0;
  live::MediaInfo media;
  // Recent segments, servable the moment a playlist lists them (before the disk write is done).
  std::map<uint64_t, std::shared_ptr<const MemSegment>> recent;
  LiveFormats formats;
  std::shared_ptr<const CmafSnapshot> cmaf;  // set when fmp4 is on
};

struct RenditionSettings {
  live::LivePlaylistConfig playlist;
  double target_duration_s = 2.0;  // segmenter target
  double part_target_s = 0.5;      // LL-HLS parts
  int64_t input_gap_ms = 3000;
  size_t memory_segments = 10;  // segments kept in memory
};

class LiveRendition {
 public:
  // `configured`: takes ingest (a channel in effect); otherwise a read-only rendition from the
  // store.
  LiveRendition(std::string channel, std::string name, bool configured, bool vod,
                RenditionSettings settings, std::shared_ptr<LiveStorage> storage);
  LiveRendition(const LiveRendition&) = delete;
  LiveRendition& operator=(const LiveRendition&) = delete;

  const std::string& channel() const { return channel_; }
  const std::string& name() const { return name_; }
  // Takes ingest now (its channel is in effect); set_ingest() changes it.
  bool configured() const { return ingest_.load(); }
  bool vod() const { return vod_; }

  // Startup, before any other thread sees this rendition.
  // `meta`: what the store holds, if anything; `state`: the persisted playlist, if any.
  void restore(const std::optional<RenditionMeta>& meta, const std::optional<std::string>& state);

  // Any thread; never waits for ingest.
  std::shared_ptr<const RenditionSnapshot> snapshot() const { return snapshot_.load(); }

  // Ingest (take this rendition's lock).
  void on_data(const LiveSource& src, const char* data, size_t n);
  void on_source_end(LiveSource& src);
  // Opens or closes ingest (its channel added to or removed from the channels in effect). Closing
  // ends the stream (EXT-X-ENDLIST) and drops any later bytes; stored segments stay until they
  // leave the DVR window.
  void set_ingest(bool on);
  // The channel's output formats; turning fmp4 on starts packaging at the next keyframe.
  void set_formats(const LiveFormats& formats);
  // Requests held for the fMP4 output (internally synchronized).
  PartWaiters& waiters() const { return waiters_; }
  // Ends a stream whose inputs went silent and drops segments that left every playlist.
  void housekeep(int64_t now_mono_ms, int64_t now_wall_ms);
  // Runs fn with the ingest lock held (the lock a long demux holds; tests use it to show that
  // serving never waits for it).
  template <typename F>
  void with_ingest_lock(F&& fn) {
    std::lock_guard lk(mu_);
    fn();
  }

 private:
  struct Counters {
    explicit Counters(const std::string& channel, const std::string& rendition);
    obs::Counter &ingest_primary, &ingest_backup, &dropped, &switches, &segments, &discontinuities,
        &forced_cuts, &expired, &param_sets_repeated;
  };

  // With mu_ held:
  void take_over(const LiveSource& src);
  void flush_segmenter();
  void on_segment(live::Segment&& seg);
  void end_stream();
  void refresh_playlists();
  void publish();
  void feed_outputs(std::string_view ts);
  void publish_cmaf_changes();

  const std::string channel_, name_;
  const bool vod_;
  std::atomic<bool> ingest_;
  const RenditionSettings settings_;
  const std::shared_ptr<LiveStorage> storage_;
  Counters counters_;

  std::mutex mu_;
  std::optional<live::LivePlaylist> playlist_;
  RenditionMeta meta_;
  std::string meta_encoded_;
  std::unique_ptr<live::Segmenter> seg_;
  // In front of seg_: keyframes get the parameter sets an encoder sent only once.
  std::unique_ptr<ingest::ParamSetRepeater> param_sets_;
  std::string repeated_;        // its output, reused
  uint64_t active_ = 0;         // source id, 0 = none
  bool active_open_ = false;    // the active source's connection is still open
  int64_t active_last_ms_ = 0;  // mono time of the active source's last bytes
  int64_t any_last_ms_ = 0;     // mono time of any source's last bytes
  bool live_ = false;           // segments arrived since the stream last ended
  Bytes live_text_, event_text_;
  std::string live_etag_, event_etag_;
  int64_t modified_s_ = 0;
  std::map<uint64_t, std::shared_ptr<const MemSegment>> recent_;
  LiveFormats formats_;
  std::unique_ptr<CmafOutput> cmaf_;  // fmp4 on
  std::shared_ptr<const CmafSnapshot> cmaf_snapshot_;

  SnapshotSlot<RenditionSnapshot> snapshot_;
  mutable PartWaiters waiters_;
};

}  // namespace cdn::origin
