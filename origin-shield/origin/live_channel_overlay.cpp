#include "origin-shield/origin/live_channel_overlay.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/auth/json.h"
#include "common/cache/key.h"

namespace cdn::origin {

namespace json = auth::json;

namespace {

const LiveChannelConfig* find(const std::vector<LiveChannelConfig>& v, std::string_view name) {
  for (auto& c : v)
    if (c.name == name) return &c;
  return nullptr;
}

json::Value str(std::string s) {
  return json::Value{std::move(s)};
}

}  // namespace

json::Value channel_to_json(const LiveChannelConfig& ch) {
  json::Array renditions;
  for (auto& r : ch.renditions) {
    json::Object o;
    json::set(o, "name", str(r.name));
    if (r.udp) json::set(o, "udp", str(r.udp->str()));
    if (r.udp_backup) json::set(o, "udp_backup", str(r.udp_backup->str()));
    if (r.ingest.srt_pull) json::set(o, "srt_pull", str(r.ingest.srt_pull->configured));
    if (r.ingest.srt_pull_backup)
      json::set(o, "srt_pull_backup", str(r.ingest.srt_pull_backup->configured));
    renditions.push_back(json::Value{std::move(o)});
  }
  json::Object o;
  json::set(o, "name", str(ch.name));
  json::set(o, "stream_key", str(ch.stream_key));
  json::set(o, "renditions", json::Value{std::move(renditions)});
  return json::Value{std::move(o)};
}

namespace {

const std::string* string_at(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m ? m->as_string() : nullptr;
}

bool only_fields(const json::Object& o, std::initializer_list<std::string_view> allowed) {
  for (auto& m : o)
    if (std::find(allowed.begin(), allowed.end(), m.key) == allowed.end()) return false;
  return true;
}

}  // namespace

Result<LiveChannelConfig> channel_from_json(const json::Value& v) {
  const json::Object* o = v.as_object();
  if (!o) return make_error("channel-not-an-object");
  if (!only_fields(*o, {"name", "stream_key", "renditions"})) return make_error("unknown-field");
  LiveChannelConfig ch;
  const std::string* name = string_at(v, "name");
  if (!name) return make_error("bad-channel-name");
  ch.name = *name;
  if (const json::Value* key = v.find("stream_key")) {
    if (!key->as_string()) return make_error("bad-stream-key");
    ch.stream_key = *key->as_string();
  }
  const json::Value* renditions = v.find("renditions");
  if (!renditions || !renditions->as_array()) return make_error("renditions-required");
  for (const json::Value& r : *renditions->as_array()) {
    const json::Object* ro = r.as_object();
    if (!ro || !only_fields(*ro, {"name", "udp", "udp_backup", "srt_pull", "srt_pull_backup"}))
      return make_error("unknown-field");
    LiveRenditionConfig rc;
    const std::string* rname = string_at(r, "name");
    if (!rname) return make_error("bad-rendition-name");
    rc.name = *rname;
    for (const char* field : {"udp", "udp_backup"}) {
      const json::Value* a = r.find(field);
      if (!a) continue;
      if (!a->as_string()) return make_error("bad-udp-address");
      auto hp = config::parse_host_port(*a->as_string());
      if (!hp || !hp->is_ip_literal()) return make_error("bad-udp-address");
      (std::string_view(field) == "udp" ? rc.udp : rc.udp_backup) = hp.value();
    }
    for (const char* field : {"srt_pull", "srt_pull_backup"}) {
      const json::Value* u = r.find(field);
      if (!u) continue;
      auto url = u->as_string() ? ingest::parse_srt_url(*u->as_string())
                                : Result<ingest::SrtPullUrl>(Error{"not a string"});
      if (!url) return make_error("bad-srt-pull");
      (std::string_view(field) == "srt_pull" ? rc.ingest.srt_pull : rc.ingest.srt_pull_backup) =
          std::move(url.value());
    }
    ch.renditions.push_back(std::move(rc));
  }
  return ch;
}

std::string channel_digest(const LiveChannelConfig* ch) {
  if (!ch) return {};
  char buf[17];
  snprintf(buf, sizeof buf, "%016" PRIx64, cache::hash64(json::serialize(channel_to_json(*ch))));
  return buf;
}

std::vector<LiveChannelConfig> ChannelOverlay::effective(
    const std::vector<LiveChannelConfig>& file) const {
  std::vector<LiveChannelConfig> out;
  for (auto& c : file) {
    auto it = entries_.find(c.name);
    if (it == entries_.end())
      out.push_back(c);
    else if (it->second.channel)
      out.push_back(*it->second.channel);
  }
  for (auto& [name, e] : entries_)
    if (e.channel && !find(file, name)) out.push_back(*e.channel);
  return out;
}

std::vector<std::string> ChannelOverlay::prune(const std::vector<LiveChannelConfig>& file) {
  std::vector<std::string> dropped;
  std::erase_if(entries_, [&](const auto& kv) {
    if (channel_digest(find(file, kv.first)) == kv.second.file_digest) return false;
    dropped.push_back(kv.first);
    return true;
  });
  return dropped;
}

void ChannelOverlay::define(LiveChannelConfig ch, const std::vector<LiveChannelConfig>& file) {
  std::string name = ch.name;
  entries_[name] = Entry{std::move(ch), channel_digest(find(file, name))};
}

void ChannelOverlay::remove(const std::string& name, const std::vector<LiveChannelConfig>& file) {
  const LiveChannelConfig* in_file = find(file, name);
  // A channel only the API added leaves no trace; one from the file needs a removal entry.
  if (!in_file)
    entries_.erase(name);
  else
    entries_[name] = Entry{std::nullopt, channel_digest(in_file)};
}

bool ChannelOverlay::defines(std::string_view name) const {
  auto it = entries_.find(name);
  return it != entries_.end() && it->second.channel;
}

std::string ChannelOverlay::serialize() const {
  json::Array entries;
  for (auto& [name, e] : entries_) {
    json::Object o;
    json::set(o, "name", str(name));
    json::set(o, "file_digest", str(e.file_digest));
    if (e.channel)
      json::set(o, "channel", channel_to_json(*e.channel));
    else
      json::set(o, "removed", json::Value{true});
    entries.push_back(json::Value{std::move(o)});
  }
  json::Object doc;
  json::set(doc, "version", json::Value{json::Number{1, 1}});
  json::set(doc, "entries", json::Value{std::move(entries)});
  return json::serialize(json::Value{std::move(doc)});
}

Result<ChannelOverlay> ChannelOverlay::parse(std::string_view text) {
  auto doc = json::parse(text, {1 << 24, 8});
  if (!doc) return doc.error();
  const json::Value* version = doc->find("version");
  if (!version || version->as_int() != 1) return make_error("channel overlay: unknown version");
  const json::Value* entries = doc->find("entries");
  if (!entries || !entries->as_array()) return make_error("channel overlay: no entries");
  ChannelOverlay out;
  for (const json::Value& e : *entries->as_array()) {
    const std::string* name = string_at(e, "name");
    const std::string* digest = string_at(e, "file_digest");
    if (!name || !digest) return make_error("channel overlay: entry without name");
    Entry entry{std::nullopt, *digest};
    if (const json::Value* ch = e.find("channel")) {
      auto c = channel_from_json(*ch);
      if (!c) return make_error("channel overlay: " + *name + ": " + c.error().message);
      entry.channel = std::move(c.value());
    }
    out.entries_[*name] = std::move(entry);
  }
  return out;
}

}  // namespace cdn::origin
