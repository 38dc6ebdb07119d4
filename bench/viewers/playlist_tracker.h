#pragma once
// What a live player makes of successive copies of one media playlist: which segments are new,
// where to start on the first copy (a few segments back from the live edge, as players do), the
// next reload (a blocking `_HLS_msn` request when the server offers CAN-BLOCK-RELOAD, else a poll
// after one target duration, half of one when nothing changed: RFC 8216 §6.3.4), discontinuities
// and the end of the stream.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.h"

namespace cdn::viewers {

struct NewSegment {
  uint64_t msn = 0;  // media sequence number
  std::string uri;   // as written in the playlist
  double duration = 0;
  bool discontinuity = false;
};

struct PlaylistUpdate {
  std::vector<NewSegment> segments;  // new since the last copy, oldest first
  bool changed = false;              // the playlist's last segment moved (or it ended)
  bool ended = false;                // EXT-X-ENDLIST
  uint64_t missed =
      0;  // segments that left the window before this player saw them (it fell behind)
  bool went_back = false;  // the copy is older than one already seen (a stale cache): nothing new
};

class PlaylistTracker {
 public:
  // start_back: on the first copy, start this many segments before the end (at least 1).
  explicit PlaylistTracker(int start_back = 3) : start_back_(start_back < 1 ? 1 : start_back) {}

  Result<PlaylistUpdate> apply(std::string_view text);

  bool seen() const { return seen_; }
  bool ended() const { return ended_; }
  bool can_block_reload() const { return can_block_reload_; }
  int target_duration() const { return target_duration_; }
  // Media sequence number of the next segment this player wants.
  uint64_t next_msn() const { return next_msn_; }
  // The request target of the next reload of `playlist_target` (which may carry a query).
  std::string reload_target(std::string_view playlist_target) const;
  // Milliseconds to wait before that reload: 0 for a blocking reload (the server holds it).
  int64_t reload_delay_ms(bool last_changed) const;

 private:
  int start_back_;
  bool seen_ = false;
  bool ended_ = false;
  bool can_block_reload_ = false;
  int target_duration_ = 0;
  uint64_t next_msn_ = 0;
};

// EXT-X-SERVER-CONTROL's CAN-BLOCK-RELOAD=YES (the shared parser keeps no LL-HLS tags).
bool offers_blocking_reload(std::string_view playlist_text);

}  // namespace cdn::viewers
