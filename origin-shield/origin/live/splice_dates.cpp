#include "origin-shield/origin/live/splice_dates.h"

#include <cmath>

#include "common/hls/datetime.h"

namespace cdn::live {
namespace {

std::string hex_section(const std::string& section) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "0x";
  out.reserve(2 + section.size() * 2);
  for (unsigned char c : section) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

void apply_splice_dates(const std::vector<Cue>& cues, int64_t pdt, hls::Segment& s,
                        std::optional<OpenBreak>& open_break) {
  bool explicit_in = false;
  for (const Cue& c : cues) {
    hls::DateRange d;
    if (c.direction == SpliceDirection::kOut) {
      d.id = "splice-" + std::to_string(c.event_id);
      d.start_date = hls::format_iso8601_ms(pdt);
      d.planned_duration = c.duration_s;
      d.scte35_out = hex_section(c.section);
      s.cue_out = true;
      s.cue_out_duration = c.duration_s;
      s.cue_in = false;
      open_break = OpenBreak{d.id, pdt, c.duration_s};
    } else {
      // The IN closes the OUT's range: same ID and START-DATE (RFC 8216 §4.3.2.7.1).
      d.id = open_break ? open_break->id : "splice-" + std::to_string(c.event_id);
      const int64_t start = open_break ? open_break->start_ms : pdt;
      d.start_date = hls::format_iso8601_ms(start);
      d.duration = double(pdt - start) / 1000;
      d.scte35_in = hex_section(c.section);
      s.cue_in = true;
      explicit_in = true;
      open_break.reset();
    }
    s.dateranges.push_back(std::move(d));
  }
  // A break with a planned duration and auto-return ends by itself: close it in the playlist too.
  if (!explicit_in && !s.cue_out && open_break && open_break->planned_s &&
      pdt + 50 >= open_break->start_ms + std::llround(*open_break->planned_s * 1000)) {
    s.cue_in = true;
    open_break.reset();
  }
}

}  // namespace cdn::live
