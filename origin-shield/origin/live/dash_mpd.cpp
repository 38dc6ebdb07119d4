#include "origin-shield/origin/live/dash_mpd.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string_view>

#include "common/hls/datetime.h"
#include "common/util/strings.h"

namespace cdn::live {
namespace {

std::string duration(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "PT%.3fS", s);
  return buf;
}

void representation(std::string& out, const DashRepresentation& r, bool video, double ato_s,
                    int64_t pto, const DashNumbering* numbering) {
  out += "      <Representation id=\"" + xml_escape(r.id) + "\" bandwidth=\"" +
         std::to_string(r.bandwidth) + "\" codecs=\"" + xml_escape(r.codecs) + "\"";
  if (video && r.width > 0)
    out += " width=\"" + std::to_string(r.width) + "\" height=\"" + std::to_string(r.height) + "\"";
  if (!video && r.sample_rate > 0)
    out += " audioSamplingRate=\"" + std::to_string(r.sample_rate) + "\"";
  out += ">\n";
  if (!video && r.channels > 0)
    out +=
        "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_"
        "configuration:2011\" value=\"" +
        std::to_string(r.channels) + "\"/>\n";
  const uint64_t start = numbering            ? numbering->start_number
                         : r.segments.empty() ? 0
                                              : r.segments.front().number;
  out += "        <SegmentTemplate timescale=\"90000\" startNumber=\"" + std::to_string(start) +
         "\" initialization=\"" + xml_escape(r.prefix, true) + "init-" + std::to_string(r.init_id) +
         ".mp4\" media=\"" + xml_escape(r.prefix, true) + "$Number$.m4s\"";
  if (numbering) out += " duration=\"" + std::to_string(numbering->duration) + "\"";
  if (pto > 0 || numbering) out += " presentationTimeOffset=\"" + std::to_string(pto) + "\"";
  if (ato_s > 0) {
    char buf[96];
    snprintf(buf, sizeof buf, " availabilityTimeOffset=\"%.3f\" availabilityTimeComplete=\"false\"",
             ato_s);
    out += buf;
  }
  if (numbering) {
    out += "/>\n      </Representation>\n";
    return;
  }
  out += ">\n          <SegmentTimeline>\n";
  int64_t expect = -1;
  for (const DashSegment& s : r.segments) {
    out += "            <S ";
    if (s.t != expect) out += "t=\"" + std::to_string(s.t) + "\" ";
    out += "d=\"" + std::to_string(s.d) + "\"/>\n";
    expect = s.t + s.d;
  }
  out += "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n";
}

// RFC 4648 §4 (padded), as xs:base64Binary wants it.
std::string base64(std::string_view bytes) {
  static const char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    for (bits += 8; bits >= 6; bits -= 6) out += kDigits[(acc >> (bits - 6)) & 63];
  }
  if (bits > 0) out += kDigits[(acc << (6 - bits)) & 63];
  out.append((4 - out.size() % 4) % 4, '=');
  return out;
}

void event_stream(std::string& out, const std::vector<DashEvent>& events, int64_t pto) {
  out += "    <EventStream schemeIdUri=\"urn:scte:scte35:2013:bin\" timescale=\"90000\"";
  if (pto > 0) out += " presentationTimeOffset=\"" + std::to_string(pto) + "\"";
  out += ">\n";
  for (const DashEvent& e : events) {
    out += "      <Event presentationTime=\"" + std::to_string(e.t) + "\"";
    if (e.d > 0) out += " duration=\"" + std::to_string(e.d) + "\"";
    out += " id=\"" + std::to_string(e.id) + "\">" + base64(e.section) + "</Event>\n";
  }
  out += "    </EventStream>\n";
}

}  // namespace

std::string write_mpd(const DashManifest& m) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out +=
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
      "profiles=\"urn:mpeg:dash:profile:isoff-live:2011,"
      "urn:mpeg:dash:profile:cmaf:2019\" ";
  const DashNumbering* numbering = m.whole || !m.numbering ? nullptr : &*m.numbering;
  const int64_t pto = m.whole ? m.presentation_time_offset : numbering ? numbering->start_t : 0;
  const double ato = m.whole ? 0 : m.availability_time_offset_s;
  if (m.whole) {
    out += "type=\"static\" mediaPresentationDuration=\"" + duration(m.duration_s) + "\"";
  } else {
    // With @duration addressing, presentation time 0 is media time start_t (the offset above).
    const int64_t ast = m.availability_start_ms + (numbering ? numbering->start_t / 90 : 0);
    out += "type=\"dynamic\" availabilityStartTime=\"" + hls::format_iso8601_ms(ast) +
           "\" publishTime=\"" + hls::format_iso8601_ms(m.published_ms) + "\"";
    if (!m.ended) out += " minimumUpdatePeriod=\"" + duration(m.min_update_period_s) + "\"";
    out += " timeShiftBufferDepth=\"" + duration(m.time_shift_buffer_s) + "\"";
  }
  out += " maxSegmentDuration=\"" + duration(m.max_segment_s) + "\" minBufferTime=\"" +
         duration(m.max_segment_s) + "\"";
  if (!m.whole) out += " suggestedPresentationDelay=\"" + duration(3 * m.max_segment_s) + "\"";
  out += ">\n";
  if (m.latency_target_ms > 0 && !m.whole)
    out += "  <ServiceDescription id=\"0\">\n    <Latency target=\"" +
           std::to_string(m.latency_target_ms) + "\" max=\"" +
           std::to_string(int64_t(6000 * m.max_segment_s)) +
           "\"/>\n    <PlaybackRate min=\"0.96\" max=\"1.04\"/>\n  </ServiceDescription>\n";
  out += "  <Period id=\"0\" start=\"PT0S\">\n";
  if (!m.events.empty()) event_stream(out, m.events, pto);
  if (!m.video.empty()) {
    out +=
        "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" "
        "segmentAlignment=\"true\" startWithSAP=\"1\">\n";
    for (const DashRepresentation& r : m.video) representation(out, r, true, ato, pto, numbering);
    out += "    </AdaptationSet>\n";
  }
  if (m.audio) {
    out +=
        "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"und\" "
        "segmentAlignment=\"true\" startWithSAP=\"1\">\n";
    representation(out, *m.audio, false, ato, pto, numbering);
    out += "    </AdaptationSet>\n";
  }
  out += "  </Period>\n";
  if (!m.utc_timing_url.empty())
    out += "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" value=\"" +
           xml_escape(m.utc_timing_url) + "\"/>\n";
  out += "</MPD>\n";
  return out;
}

std::optional<DashNumbering> duration_numbering(const std::vector<DashSegment>& segs,
                                                uint64_t first) {
  if (segs.empty() || segs.front().number < first) return std::nullopt;
  std::map<int64_t, int> counts;
  for (const DashSegment& s : segs) ++counts[s.d];
  const int64_t d =
      std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  if (d <= 0) return std::nullopt;
  const DashSegment& front = segs.front();
  DashNumbering n{d, first, front.t - int64_t(front.number - first) * d};
  if (n.start_t < 0) return std::nullopt;
  for (const DashSegment& s : segs)
    if (std::llabs(s.t - (n.start_t + int64_t(s.number - first) * d)) > d / 10) return std::nullopt;
  return n;
}

}  // namespace cdn::live
