// LivePlaylist persistence. The state is a few header lines plus the history written as an HLS
// media playlist, so tags (dates, cues, discontinuities) reuse the playlist parser and writer
// instead of a second encoding of the same facts.
#include <cmath>
#include <sstream>

#include "common/hls/parser.h"
#include "common/hls/writer.h"
#include "common/util/strings.h"
#include "origin-shield/origin/live/live_playlist.h"

namespace cdn::live {
namespace {

constexpr std::string_view kMagic = "cdn-live-playlist 1";

}  // namespace

std::string LivePlaylist::serialize() const {
  std::ostringstream out;
  out << kMagic << "\n";
  out << "next " << next_sequence_ << "\n";
  out << "target " << target_duration_ << " " << target_overruns_ << "\n";
  out << "discontinuities_dropped " << discontinuities_dropped_ << "\n";
  out << "flags " << ended_ << " " << pending_discontinuity_ << " " << history_trimmed_ << "\n";
  if (open_break_)
    out << "break " << open_break_->start_ms << " "
        << (open_break_->planned_s ? std::llround(*open_break_->planned_s * 1000) : -1) << " "
        << open_break_->id << "\n";
  out << "expiring";
  for (auto& x : expiring_) out << " " << x.sequence << ":" << x.deadline_ms;
  out << "\nsizes";
  for (auto& e : history_) out << " " << e.size_bytes;
  out << "\nplaylist\n";
  hls::MediaPlaylist p = model_from(0);
  p.target_duration = target_duration_;
  p.endlist = false;
  out << hls::write(p);
  return out.str();
}

Result<LivePlaylist> LivePlaylist::deserialize(std::string_view state, LivePlaylistConfig config) {
  const size_t body = state.find("\nplaylist\n");
  if (state.substr(0, kMagic.size()) != kMagic || body == std::string_view::npos)
    return Error{"live playlist state: bad header"};
  LivePlaylist pl(std::move(config));
  std::istringstream in{std::string(state.substr(0, body))};
  std::string line;
  std::vector<uint64_t> sizes;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (key == "next") {
      f >> pl.next_sequence_;
    } else if (key == "target") {
      f >> pl.target_duration_ >> pl.target_overruns_;
    } else if (key == "discontinuities_dropped") {
      f >> pl.discontinuities_dropped_;
    } else if (key == "flags") {
      f >> pl.ended_ >> pl.pending_discontinuity_ >> pl.history_trimmed_;
    } else if (key == "break") {
      OpenBreak b;
      long long planned_ms = -1;
      f >> b.start_ms >> planned_ms >> b.id;
      if (planned_ms >= 0) b.planned_s = double(planned_ms) / 1000;
      pl.open_break_ = b;
    } else if (key == "expiring") {
      std::string item;
      while (f >> item) {
        const size_t colon = item.find(':');
        auto seq = parse_int(std::string_view(item).substr(0, colon));
        auto deadline = colon == std::string::npos
                            ? std::nullopt
                            : parse_int(std::string_view(item).substr(colon + 1));
        if (!seq || !deadline || *seq < 0)
          return Error{"live playlist state: bad expiring entry"};
        pl.expiring_.push_back({uint64_t(*seq), *deadline});
      }
      continue;
    } else if (key == "sizes") {
      uint64_t v;
      while (f >> v) sizes.push_back(v);
      continue;
    } else {
      return Error{"live playlist state: unknown field " + key};
    }
    if (f.fail()) return Error{"live playlist state: bad field " + key};
  }
  auto parsed = hls::parse_media(state.substr(body + 10));
  if (!parsed) return Error{"live playlist state: " + parsed.error().message};
  if (parsed->segments.size() != sizes.size() ||
      parsed->media_sequence + parsed->segments.size() != pl.next_sequence_)
    return Error{"live playlist state: segment list does not match the sequence"};
  for (size_t i = 0; i < sizes.size(); ++i)
    pl.history_.push_back(Entry{std::move(parsed->segments[i]), sizes[i]});
  pl.pending_discontinuity_ = true;  // whatever comes next was encoded after the restart
  return pl;
}

}  // namespace cdn::live
