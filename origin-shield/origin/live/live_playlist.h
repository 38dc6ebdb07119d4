#pragma once
// The state of one live rendition's playlist: which segments are in the sliding window and in the
// DVR history, their sequence numbers, program date-times and ad markers. Pure state, no I/O: the
// origin persists serialize() after each append so the media sequence survives a restart.
//
// EXT-X-TARGETDURATION rule: it is fixed when the first segment arrives, as
//   max(ceil(configured target), round(first segment duration))
// and never changes afterwards (RFC 8216 §6.2.1 forbids changing it). The first segment starts and
// ends on keyframes, so a GOP longer than the target shows in it; a later segment that still rounds
// above the fixed value is listed anyway and counted in target_overruns() for operators to see.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/hls/playlist.h"
#include "common/util/result.h"
#include "origin-shield/origin/live/segmenter.h"
#include "origin-shield/origin/live/splice_dates.h"

namespace cdn::live {

struct LivePlaylistConfig {
  double target_duration_s = 2.0;
  size_t window_segments = 6;  // raised to 6 and to ≥ 3 × target duration as RFC 8216 asks
  double dvr_window_s = 0;     // history kept for the event (catch-up) playlist
  std::string uri_prefix;      // segment URI = prefix + sequence + suffix
  std::string uri_suffix = ".ts";
};

class LivePlaylist {
 public:
  explicit LivePlaylist(LivePlaylistConfig config);

  // Adds a finished segment (its duration, discontinuity flag, cues and size are used) and
  // returns the media sequence number it was given. `now_ms` is wall-clock time of completion.
  uint64_t append(const Segment& segment, int64_t now_ms);
  // The next segment begins a new timeline (origin restart, backup ingest takeover).
  void mark_discontinuity() { pending_discontinuity_ = true; }
  // The stream ended: playlists get EXT-X-ENDLIST (the event playlist becomes VOD when it still
  // holds the whole stream). A later append reopens it with a discontinuity.
  void end() { ended_ = true; }
  bool ended() const { return ended_; }

  std::string live_playlist() const;   // sliding window
  std::string event_playlist() const;  // DVR history
  hls::MediaPlaylist live_model() const;
  hls::MediaPlaylist event_model() const;

  uint64_t next_sequence() const { return next_sequence_; }
  int target_duration() const { return target_duration_; }
  size_t target_overruns() const { return target_overruns_; }
  size_t size() const { return history_.size(); }
  // Bits per second over the live window: the highest segment rate and the mean.
  uint64_t peak_bandwidth() const;
  uint64_t average_bandwidth() const;
  std::string segment_uri(uint64_t sequence) const;

  // Segments that left every playlist at least their duration plus that playlist's duration ago
  // (RFC 8216 §6.2.2) and may now be deleted from storage.
  std::vector<uint64_t> take_expired(int64_t now_ms);

  std::string serialize() const;
  // A restored playlist continues the media sequence; its next segment is a discontinuity.
  static Result<LivePlaylist> deserialize(std::string_view state, LivePlaylistConfig config);

 private:
  struct Entry {
    hls::Segment seg;
    uint64_t size_bytes = 0;
  };
  struct Expiring {
    uint64_t sequence;
    int64_t deadline_ms;
  };

  size_t window_start() const;
  hls::MediaPlaylist model_from(size_t first) const;
  void trim_history(int64_t now_ms);

  LivePlaylistConfig config_;
  std::deque<Entry> history_;
  uint64_t next_sequence_ = 0;
  uint64_t discontinuities_dropped_ = 0;  // discontinuity tags that left the history
  int target_duration_ = 0;
  size_t target_overruns_ = 0;
  bool ended_ = false;
  bool pending_discontinuity_ = false;
  bool history_trimmed_ = false;
  std::optional<OpenBreak> open_break_;
  std::vector<Expiring> expiring_;
};

}  // namespace cdn::live
