#include "origin-shield/origin/live_config.h"

#include <cctype>
#include <optional>
#include <set>

#include "common/config/reader.h"

namespace cdn::origin {

const LiveChannelConfig* LiveConfig::channel(std::string_view name) const {
  for (auto& c : channels)
    if (c.name == name) return &c;
  return nullptr;
}

bool valid_live_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

bool valid_stream_key(std::string_view key) {
  if (key.empty() || key.size() > 256) return false;
  for (unsigned char c : key)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::optional<std::string> channel_problem(const LiveChannelConfig& ch,
                                           const std::vector<LiveChannelConfig>& others) {
  if (!valid_live_name(ch.name)) return "bad-channel-name";
  if (!valid_stream_key(ch.stream_key)) return "bad-stream-key";
  if (ch.renditions.empty()) return "renditions-required";
  std::set<std::string> names, udp_taken;
  for (auto& o : others) {
    if (o.name == ch.name) return "channel-exists";
    for (auto& r : o.renditions)
      for (auto* hp : {&r.udp, &r.udp_backup})
        if (*hp) udp_taken.insert((*hp)->str());
  }
  for (auto& r : ch.renditions) {
    if (!valid_live_name(r.name)) return "bad-rendition-name";
    if (!names.insert(r.name).second) return "duplicate-rendition";
    for (auto* hp : {&r.udp, &r.udp_backup})
      if (*hp && !udp_taken.insert((*hp)->str()).second) return "udp-address-in-use";
  }
  return std::nullopt;
}

namespace {

void read_formats(config::MapReader& c, LiveFormats& out) {
  auto list = c.get_string_list("formats");
  if (!list) return;
  if (list->empty()) return c.error("formats", "formats must name at least one of ts, fmp4, llhls, dash, lldash");
  out = LiveFormats{false, false, false, false, false};
  for (const std::string& f : *list) {
    if (f == "ts") {
      out.ts = true;
    } else if (f == "fmp4") {
      out.fmp4 = true;
    } else if (f == "llhls") {
      out.fmp4 = out.llhls = true;
    } else if (f == "dash") {
      out.fmp4 = out.dash = true;
    } else if (f == "lldash") {
      out.fmp4 = out.dash = out.llhls = out.lldash = true;
    } else {
      c.error("formats", "unknown format \"" + f + "\" (ts, fmp4, llhls, dash, lldash)");
    }
  }
}

}  // namespace

void read_live_section(config::MapReader& root, LiveConfig& out) {
  out = LiveConfig{};  // a reload reads the section afresh
  if (!root.has("live")) return;
  auto live = root.get_map("live");
  if (!live) return;
  out.enabled = true;
  config::set(out.store_path, live->get_string(config::required("store_path"), false));
  config::set(out.target_duration_ms, live->get_duration_ms("target_duration", 500, 60'000));
  config::set(out.part_target_ms, live->get_duration_ms("part_target", 100, 5'000));
  config::set(out.window_segments, live->get_int("window_segments", 6, 10'000));
  config::set(out.dvr_window_ms, live->get_duration_ms("dvr_window", 0, 7LL * 86'400'000));
  config::set(out.input_gap_ms, live->get_duration_ms("input_gap", 100, 600'000));
  std::set<std::string> udp_seen;
  for (config::MapReader& c : live->get_maps("channels")) {
    LiveChannelConfig ch;
    config::set(ch.name, c.get_string(config::required("name"), false));
    if (!ch.name.empty() && !valid_live_name(ch.name))
      c.error("name", "channel name must be 1-64 of [A-Za-z0-9._-]");
    if (out.channel(ch.name)) c.error("name", "duplicate channel \"" + ch.name + "\"");
    config::set(ch.stream_key, c.get_string(config::required("stream_key"), false));
    if (!ch.stream_key.empty() && !valid_stream_key(ch.stream_key))
      c.error("stream_key", "stream key must be 1-256 printable ASCII characters without spaces");
    if (c.has("formats")) read_formats(c, ch.formats);
    for (config::MapReader& r : c.get_maps(config::required("renditions"), 1)) {
      LiveRenditionConfig rc;
      config::set(rc.name, r.get_string(config::required("name"), false));
      if (!rc.name.empty() && !valid_live_name(rc.name))
        r.error("name", "rendition name must be 1-64 of [A-Za-z0-9._-]");
      for (auto& other : ch.renditions)
        if (other.name == rc.name) r.error("name", "duplicate rendition \"" + rc.name + "\"");
      if (r.has("udp")) rc.udp = r.get_host_port("udp");
      if (r.has("udp_backup")) rc.udp_backup = r.get_host_port("udp_backup");
      for (auto* hp : {&rc.udp, &rc.udp_backup}) {
        if (!*hp) continue;
        if (!udp_seen.insert((*hp)->str()).second)
          r.error(hp == &rc.udp ? "udp" : "udp_backup", "UDP address " + (*hp)->str() + " used twice");
      }
      read_rendition_ingest(r, rc.ingest);
      r.finish();
      ch.renditions.push_back(std::move(rc));
    }
    c.finish();
    out.channels.push_back(std::move(ch));
  }
  if (out.part_target_ms >= out.target_duration_ms)
    live->error("part_target", "part_target must be shorter than target_duration");
  // RFC 8216 §6.2.2: the window holds at least three target durations.
  const int64_t min_window_ms = 3 * out.target_duration_ms;
  if (int64_t(out.window_segments) * out.target_duration_ms < min_window_ms)
    live->error("window_segments", "window must cover at least 3x target_duration");
  read_ingest_config(*live, out);
  live->finish();
}

}  // namespace cdn::origin
