#include "origin-shield/origin/live/llhls_playlist.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "common/hls/datetime.h"
#include "common/hls/writer.h"

namespace cdn::live {
namespace {

std::string seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

LlhlsPlaylist::LlhlsPlaylist(LlhlsConfig config) : config_(config) {}

void LlhlsPlaylist::add_part(const CmafPart& part, uint64_t session, uint64_t number,
                             int64_t now_ms) {
  if (!open_ || open_->msn != part.sequence) {
    open_.emplace();
    open_->msn = part.sequence;
    open_->discontinuity = part.discontinuity;
    open_->init_id = part.init_id;
    open_->start_ms = now_ms - std::llround(part.duration_s * 1000);
    apply_splice_dates(part.cues, open_->start_ms, open_->cues, open_break_);
  }
  open_->parts.push_back({part.duration_s, part.independent, session, number});
  hint_session_ = session;
  hint_number_ = number + 1;
  ended_ = false;
}

void LlhlsPlaylist::add_segment(const CmafSegment& segment) {
  Seg s;
  if (open_ && open_->msn == segment.sequence) {
    s = std::move(*open_);
  } else {
    apply_splice_dates(segment.cues, s.start_ms, s.cues, open_break_);
  }
  open_.reset();
  s.msn = segment.sequence;
  s.duration_s = segment.duration_s;
  s.discontinuity = segment.discontinuity;
  s.init_id = segment.init_id;
  if (target_duration_ == 0)
    target_duration_ =
        std::max(int(std::ceil(config_.target_duration_s)), int(std::lround(segment.duration_s)));
  segments_.push_back(std::move(s));
  while (segments_.size() > config_.window_segments) {
    if (segments_[1].discontinuity) ++discontinuity_sequence_;
    segments_.pop_front();
  }
}

std::optional<PartPosition> LlhlsPlaylist::last_part() const {
  if (open_ && !open_->parts.empty())
    return PartPosition{open_->msn, int64_t(open_->parts.size()) - 1};
  if (segments_.empty()) return std::nullopt;
  return PartPosition{segments_.back().msn, int64_t(segments_.back().parts.size()) - 1};
}

std::optional<uint64_t> LlhlsPlaylist::last_msn() const {
  if (segments_.empty()) return std::nullopt;
  return segments_.back().msn;
}

bool LlhlsPlaylist::has(uint64_t msn, int64_t part) const {
  if (part < 0) return !segments_.empty() && segments_.back().msn >= msn;
  auto last = last_part();
  if (!last) return false;
  // A part index past the end of a completed segment is satisfied by the next segment's first.
  return last->msn > msn || (last->msn == msn && last->part >= part);
}

PartPosition LlhlsPlaylist::next_part() const {
  if (open_) return {open_->msn, int64_t(open_->parts.size())};
  if (segments_.empty()) return {0, 0};
  return {segments_.back().msn + 1, 0};
}

void LlhlsPlaylist::print_parts(std::string& out, const Seg& s) const {
  for (size_t i = 0; i < s.parts.size(); ++i) {
    out += "#EXT-X-PART:DURATION=" + seconds(s.parts[i].duration_s) + ",URI=\"" +
           part_uri(s.parts[i].session, s.parts[i].number) + "\"";
    if (s.parts[i].independent) out += ",INDEPENDENT=YES";
    out += '\n';
  }
}

std::string LlhlsPlaylist::render(bool skip, const std::vector<RenditionReport>& reports) const {
  const bool ll = config_.parts;
  const int target =
      target_duration_ > 0 ? target_duration_ : int(std::ceil(config_.target_duration_s));
  // Delta update (RFC 8216bis §6.2.5.1): segments that ended more than CAN-SKIP-UNTIL before the
  // playlist's end are replaced by EXT-X-SKIP.
  const double skip_until = 6.0 * target;
  size_t skipped = 0;
  if (ll && skip) {
    double from_end = 0;
    size_t keep = 0;
    for (auto it = segments_.rbegin(); it != segments_.rend(); ++it, ++keep) {
      if (from_end >= skip_until) break;
      from_end += it->duration_s;
    }
    skipped = segments_.size() - keep;
  }
  std::string out = "#EXTM3U\n";
  out += "#EXT-X-VERSION:" + std::string(ll && skip ? "9" : "6") + "\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target) + "\n";
  if (ll) {
    out += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=" + seconds(skip_until) +
           ",PART-HOLD-BACK=" + seconds(3 * config_.part_target_s) + "\n";
    out += "#EXT-X-PART-INF:PART-TARGET=" + seconds(config_.part_target_s) + "\n";
  }
  const uint64_t first_msn = !segments_.empty() ? segments_.front().msn : open_ ? open_->msn : 0;
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first_msn) + "\n";
  if (config_.vod && ended_) out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  if (discontinuity_sequence_ > 0)
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(discontinuity_sequence_) + "\n";
  out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (ll && skip) out += "#EXT-X-SKIP:SKIPPED-SEGMENTS=" + std::to_string(skipped) + "\n";
  // Parts are listed for the segments within three target durations of the live edge.
  double tail = 0;
  size_t parts_from = segments_.size();
  while (parts_from > 0 && tail < 3.0 * target) tail += segments_[--parts_from].duration_s;
  std::optional<uint64_t> map;
  const auto head = [&](const Seg& s, bool first) {
    if (s.discontinuity && !first) out += "#EXT-X-DISCONTINUITY\n";
    if (!map || *map != s.init_id) {
      out += "#EXT-X-MAP:URI=\"" + init_uri(s.init_id) + "\"\n";
      map = s.init_id;
    }
    // Date ranges need a date to relate to: a segment with any gets its own.
    if (first || s.discontinuity || !s.cues.dateranges.empty())
      out += "#EXT-X-PROGRAM-DATE-TIME:" + hls::format_iso8601_ms(s.start_ms) + "\n";
    hls::write_segment_cues(out, s.cues);
  };
  for (size_t i = skipped; i < segments_.size(); ++i) {
    const Seg& s = segments_[i];
    head(s, i == skipped);
    if (ll && i >= parts_from) print_parts(out, s);
    out += "#EXTINF:" + seconds(s.duration_s) + ",\n" + segment_uri(s.msn) + "\n";
  }
  if (ll && open_ && !ended_) {
    head(*open_, segments_.size() == skipped);
    print_parts(out, *open_);
  }
  if (ended_) {
    out += "#EXT-X-ENDLIST\n";
  } else if (ll) {
    out += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + part_uri(hint_session_, hint_number_) + "\"\n";
  }
  if (ll)
    for (const RenditionReport& r : reports) {
      out += "#EXT-X-RENDITION-REPORT:URI=\"" + r.uri + "\",LAST-MSN=" + std::to_string(r.last_msn);
      if (r.last_part >= 0) out += ",LAST-PART=" + std::to_string(r.last_part);
      out += '\n';
    }
  return out;
}

std::string LlhlsPlaylist::serialize() const {
  std::string out = "llhls1 " + std::to_string(discontinuity_sequence_) + " " +
                    std::to_string(target_duration_) + " " + (ended_ ? "1" : "0") + "\n";
  char line[160];
  for (const Seg& s : segments_) {
    snprintf(line, sizeof line, "%llu %.6f %d %llu %lld\n", static_cast<unsigned long long>(s.msn),
             s.duration_s, s.discontinuity ? 1 : 0, static_cast<unsigned long long>(s.init_id),
             static_cast<long long>(s.start_ms));
    out += line;
  }
  return out;
}

std::optional<LlhlsPlaylist> LlhlsPlaylist::deserialize(std::string_view state,
                                                        LlhlsConfig config) {
  LlhlsPlaylist pl(config);
  std::string text(state);
  std::istringstream in(text);
  std::string magic;
  int ended = 0;
  if (!(in >> magic >> pl.discontinuity_sequence_ >> pl.target_duration_ >> ended) ||
      magic != "llhls1")
    return std::nullopt;
  pl.ended_ = ended != 0;
  Seg s;
  int disc = 0;
  while (in >> s.msn >> s.duration_s >> disc >> s.init_id >> s.start_ms) {
    s.discontinuity = disc != 0;
    if (!pl.segments_.empty() && s.msn <= pl.segments_.back().msn) return std::nullopt;
    pl.segments_.push_back(s);
  }
  if (!in.eof()) return std::nullopt;
  return pl;
}

}  // namespace cdn::live
