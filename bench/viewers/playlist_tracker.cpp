#include "bench/viewers/playlist_tracker.h"

#include "common/hls/attribute_list.h"
#include "common/hls/parser.h"

namespace cdn::viewers {

bool offers_blocking_reload(std::string_view text) {
  constexpr std::string_view kTag = "#EXT-X-SERVER-CONTROL:";
  size_t at = 0;
  while ((at = text.find(kTag, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      size_t end = text.find('\n', at);
      std::string_view attrs = text.substr(
          at + kTag.size(), end == std::string_view::npos ? end : end - at - kTag.size());
      while (!attrs.empty() && (attrs.back() == '\r' || attrs.back() == ' '))
        attrs.remove_suffix(1);
      hls::AttributeReader r(attrs);
      hls::Attribute a;
      while (r.next(a))
        if (a.name == "CAN-BLOCK-RELOAD" && a.value == "YES") return true;
      return false;
    }
    at += kTag.size();
  }
  return false;
}

Result<PlaylistUpdate> PlaylistTracker::apply(std::string_view text) {
  auto parsed = hls::parse_media(text);
  if (!parsed) return parsed.error();
  const hls::MediaPlaylist& pl = parsed.value();
  PlaylistUpdate up;
  target_duration_ = pl.target_duration;
  can_block_reload_ = offers_blocking_reload(text);
  const uint64_t first = pl.media_sequence;
  const uint64_t end = first + pl.segments.size();  // one past the last segment's msn
  if (!seen_) {
    seen_ = true;
    // A VOD (or ended) playlist plays from its start; a live one from start_back_ before the end.
    if (pl.endlist || pl.type == hls::PlaylistType::kVod) {
      next_msn_ = first;
    } else {
      next_msn_ = end > first + uint64_t(start_back_) ? end - uint64_t(start_back_) : first;
    }
    up.changed = true;
  } else if (end < next_msn_) {
    up.went_back = true;
    return up;
  } else {
    up.changed = end > next_msn_ || (pl.endlist && !ended_);
  }
  if (next_msn_ < first) {
    up.missed = first - next_msn_;
    next_msn_ = first;
  }
  for (uint64_t msn = next_msn_; msn < end; ++msn) {
    const hls::Segment& s = pl.segments[msn - first];
    up.segments.push_back(NewSegment{msn, s.uri, s.duration, s.discontinuity});
  }
  next_msn_ = end;
  ended_ = ended_ || pl.endlist;
  up.ended = ended_;
  return up;
}

std::string PlaylistTracker::reload_target(std::string_view playlist_target) const {
  std::string out(playlist_target);
  if (!can_block_reload_) return out;
  out += out.find('?') == std::string::npos ? '?' : '&';
  out += "_HLS_msn=" + std::to_string(next_msn_);
  return out;
}

int64_t PlaylistTracker::reload_delay_ms(bool last_changed) const {
  if (can_block_reload_) return 0;
  int64_t td = int64_t(target_duration_ > 0 ? target_duration_ : 1) * 1000;
  return last_changed ? td : td / 2;
}

}  // namespace cdn::viewers
