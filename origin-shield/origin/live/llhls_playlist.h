#pragma once
// The media playlist of a rendition's fMP4 output: EXT-X-MAP per init segment, .m4s segments, and
// for LL-HLS the parts of the last segments (EXT-X-PART, INDEPENDENT=YES on keyframes), the part
// in progress as EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL (blocking reload, PART-HOLD-BACK =
// 3 × part target, delta updates: CAN-SKIP-UNTIL = 6 × target) and EXT-X-RENDITION-REPORT.
// Pure state, no I/O; the origin publishes what render() prints.
//
// Names: init-<id>.mp4, <msn>.m4s, parts part-<session>-<n>.m4s (relative to the playlist): parts
// are numbered across segment boundaries, so the preload hint names the next part whichever
// segment it turns out to belong to; <session> (the first msn of the encoder session) keeps
// numbers unique across encoder restarts, as cached parts are immutable.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin-shield/origin/live/cmaf_packager.h"
#include "origin-shield/origin/live/splice_dates.h"

namespace cdn::live {

struct LlhlsConfig {
  double target_duration_s = 2.0;
  double part_target_s = 0.5;
  size_t window_segments = 6;
  bool parts = true;  // LL-HLS; false: a plain fMP4 playlist of whole segments
  bool vod = false;   // packaged from a file: EXT-X-PLAYLIST-TYPE:VOD once ended
};

// Where another rendition of the channel stands (EXT-X-RENDITION-REPORT).
struct RenditionReport {
  std::string uri;
  uint64_t last_msn = 0;
  int64_t last_part = -1;
};

// A part's position: media sequence number and part index (-1 = the whole segment).
struct PartPosition {
  uint64_t msn = 0;
  int64_t part = -1;
};

// One part or segment as the playlist lists it (outside the class: clang wants the default member
// initializers of a type complete before std::optional of it is used inside the class).
struct LlhlsPart {
  double duration_s = 0;
  bool independent = false;
  uint64_t session = 0, number = 0;
};

struct LlhlsSegment {
  uint64_t msn = 0;
  double duration_s = 0;
  bool discontinuity = false;
  uint64_t init_id = 0;
  int64_t start_ms = 0;  // wall clock of its first frame (EXT-X-PROGRAM-DATE-TIME)
  std::vector<LlhlsPart> parts;
  hls::Segment cues;  // SCTE-35 on its start: date ranges and cue tags only
};

class LlhlsPlaylist {
 public:
  explicit LlhlsPlaylist(LlhlsConfig config);

  // `number`: the part's number within the session (see part_uri).
  void add_part(const CmafPart& part, uint64_t session, uint64_t number, int64_t now_ms);
  void add_segment(const CmafSegment& segment);
  void end() { ended_ = true; }
  bool ended() const { return ended_; }
  bool empty() const { return segments_.empty() && !open_; }

  // The last part published (or the last segment's last part); nullopt before the first.
  std::optional<PartPosition> last_part() const;
  // Whether a blocking request for msn (and part, if >= 0) can be answered now.
  bool has(uint64_t msn, int64_t part) const;
  // The next part to be published: (msn, index) for blocking requests.
  PartPosition next_part() const;
  // The last complete segment's msn (nullopt before the first).
  std::optional<uint64_t> last_msn() const;
  int target_duration() const { return target_duration_; }
  double part_target_s() const { return config_.part_target_s; }

  std::string render(bool skip, const std::vector<RenditionReport>& reports) const;

  // The complete segments in the window (their parts and cues are not kept), for the store; a
  // restored playlist continues from them.
  std::string serialize() const;
  static std::optional<LlhlsPlaylist> deserialize(std::string_view state, LlhlsConfig config);

  static std::string init_uri(uint64_t id) { return "init-" + std::to_string(id) + ".mp4"; }
  static std::string segment_uri(uint64_t msn) { return std::to_string(msn) + ".m4s"; }
  static std::string part_uri(uint64_t session, uint64_t number) {
    return "part-" + std::to_string(session) + "-" + std::to_string(number) + ".m4s";
  }

 private:
  using Part = LlhlsPart;
  using Seg = LlhlsSegment;

  void print_parts(std::string& out, const Seg& s) const;

  LlhlsConfig config_;
  std::deque<Seg> segments_;                     // complete, in the window
  std::optional<Seg> open_;                      // the segment whose parts are being published
  uint64_t hint_session_ = 0, hint_number_ = 0;  // the part after the last one
  uint64_t discontinuity_sequence_ = 0;
  int target_duration_ = 0;
  bool ended_ = false;
  std::optional<OpenBreak> open_break_;
};

}  // namespace cdn::live
