#include "origin-shield/origin/live_channel_control.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/auth/json.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"

namespace cdn::origin {

namespace json = auth::json;

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

void count_reload(const char* result) {
  obs::metrics()
      .counter("cdn_live_config_reloads_total", "live: sections re-read on SIGHUP, by result",
               {{"result", result}})
      .inc();
}

std::string names(const std::vector<std::string>& v) {
  std::string out;
  for (auto& n : v) out += (out.empty() ? "" : ",") + n;
  return out;
}

json::Value str(std::string s) {
  return json::Value{std::move(s)};
}

json::Value num(int64_t n) {
  return json::Value{json::Number{double(n), n}};
}

json::Value rendition_json(const LiveRendition& r, const LiveRenditionConfig* rc, size_t pushes) {
  auto snap = r.snapshot();
  const bool live = r.configured() && (pushes > 0 || (snap->segments > 0 && !snap->ended));
  json::Object o;
  json::set(o, "name", str(r.name()));
  json::set(o, "state", str(live ? "live" : "idle"));
  json::set(o, "http_pushes", num(int64_t(pushes)));
  if (rc && rc->udp) json::set(o, "udp", str(rc->udp->str()));
  if (rc && rc->udp_backup) json::set(o, "udp_backup", str(rc->udp_backup->str()));
  json::set(o, "segments", num(int64_t(snap->segments)));
  json::set(o, "next_sequence", num(int64_t(snap->next_sequence)));
  return json::Value{std::move(o)};
}

}  // namespace

std::string generate_stream_key() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return {};
  return hex(b, sizeof b);
}

std::string key_fingerprint(std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr);
  return "sha256:" + hex(md, 8);
}

ChannelOverlay load_overlay(LiveStorage& storage, const std::vector<LiveChannelConfig>& file) {
  auto text = storage.channel_overlay();
  if (!text) return {};
  auto overlay = ChannelOverlay::parse(*text);
  if (!overlay) {
    obs::log(obs::Level::Error,
             "stored channel changes unreadable, using the config file's channels",
             {{"error", overlay.error().message}});
    obs::metrics()
        .counter("cdn_live_channel_errors_total", "Channel changes that failed, by reason",
                 {{"reason", "overlay-unreadable"}})
        .inc();
    return {};
  }
  auto dropped = overlay->prune(file);
  if (!dropped.empty()) {
    obs::log(obs::Level::Info,
             "config file changed channels since the API did; the file's definitions win",
             {{"channels", names(dropped)}});
    storage.save_channel_overlay(overlay->serialize());
  }
  return std::move(overlay.value());
}

LiveChannels::Change LiveChannelControl::commit() {
  storage_->save_channel_overlay(overlay_.serialize());
  storage_->flush();  // kept across a restart before the change is answered
  auto change = channels_.apply(overlay_.effective(file_cfg_.channels));
  ingest_.reconcile(channels_.table());
  if (!change.empty())
    obs::log(obs::Level::Info, "live channels changed",
             {{"added", names(change.added)},
              {"removed", names(change.removed)},
              {"rekeyed", names(change.rekeyed)},
              {"redefined", names(change.redefined)}});
  return change;
}

AdminOutcome LiveChannelControl::list() {
  auto table = channels_.table();
  auto pushes = ingest_.open_pushes();
  json::Array channels;
  for (auto& [name, view] : table->channels) {
    json::Object o;
    json::set(o, "name", str(name));
    json::Array renditions;
    bool live = false;
    for (LiveRendition* r : view.renditions) {
      const LiveRenditionConfig* rc = nullptr;
      if (view.ingest)
        for (auto& c : view.ingest->renditions)
          if (c.name == r->name()) rc = &c;
      if (view.ingest && !rc) continue;  // a stored rendition no longer in the channel
      auto it = pushes.find(name + "/" + r->name());
      json::Value rj = rendition_json(*r, rc, it == pushes.end() ? 0 : it->second);
      live = live || *rj.find("state")->as_string() == "live";
      renditions.push_back(std::move(rj));
    }
    if (view.ingest) {
      json::set(o, "source", str(overlay_.defines(name) ? "api" : "config"));
      json::set(o, "state", str(live ? "live" : "idle"));
      json::set(o, "key_fingerprint", str(key_fingerprint(view.ingest->stream_key)));
    } else {
      json::set(o, "source", str("store"));
      json::set(o, "state", str("read-only"));
    }
    json::set(o, "renditions", json::Value{std::move(renditions)});
    channels.push_back(json::Value{std::move(o)});
  }
  json::Object doc;
  json::set(doc, "channels", json::Value{std::move(channels)});
  return {200, {}, json::serialize(json::Value{std::move(doc)}) + "\n"};
}

AdminOutcome LiveChannelControl::add(LiveChannelConfig ch, bool key_generated) {
  const auto in_effect = overlay_.effective(file_cfg_.channels);
  if (auto problem = channel_problem(ch, in_effect))
    return AdminOutcome::error(*problem == "channel-exists" ? 409 : 400, *problem);
  overlay_.define(ch, file_cfg_.channels);
  commit();
  json::Object o;
  json::set(o, "name", str(ch.name));
  json::set(o, "key_fingerprint", str(key_fingerprint(ch.stream_key)));
  if (key_generated) json::set(o, "stream_key", str(ch.stream_key));
  return {201, {}, json::serialize(json::Value{std::move(o)}) + "\n"};
}

AdminOutcome LiveChannelControl::remove(const std::string& name) {
  const auto in_effect = overlay_.effective(file_cfg_.channels);
  bool found = false;
  for (auto& c : in_effect) found = found || c.name == name;
  if (!found) return AdminOutcome::error(404, "no-such-channel");
  overlay_.remove(name, file_cfg_.channels);
  commit();
  json::Object o;
  json::set(o, "removed", str(name));
  return {200, {}, json::serialize(json::Value{std::move(o)}) + "\n"};
}

AdminOutcome LiveChannelControl::rotate_key(const std::string& name,
                                            std::optional<std::string> key) {
  auto in_effect = overlay_.effective(file_cfg_.channels);
  LiveChannelConfig* ch = nullptr;
  for (auto& c : in_effect)
    if (c.name == name) ch = &c;
  if (!ch) return AdminOutcome::error(404, "no-such-channel");
  const bool generated = !key;
  if (generated) key = generate_stream_key();
  if (!valid_stream_key(*key)) return AdminOutcome::error(400, "bad-stream-key");
  if (*key == ch->stream_key) return AdminOutcome::error(400, "same-stream-key");
  ch->stream_key = *key;
  overlay_.define(*ch, file_cfg_.channels);
  commit();
  json::Object o;
  json::set(o, "name", str(name));
  json::set(o, "key_fingerprint", str(key_fingerprint(*key)));
  if (generated) json::set(o, "stream_key", str(*key));
  return {200, {}, json::serialize(json::Value{std::move(o)}) + "\n"};
}

Result<void> LiveChannelControl::reload(const LiveConfig& cfg) {
  auto refuse = [](std::string reason) -> Result<void> {
    count_reload("error");
    obs::log(obs::Level::Error, "live: reload refused, keeping the running channels",
             {{"error", reason}});
    return make_error(std::move(reason));
  };
  if (!cfg.enabled) return refuse("the live: section is gone (needs a restart)");
  if (cfg.store_path != file_cfg_.store_path ||
      cfg.target_duration_ms != file_cfg_.target_duration_ms ||
      cfg.part_target_ms != file_cfg_.part_target_ms ||
      cfg.window_segments != file_cfg_.window_segments ||
      cfg.dvr_window_ms != file_cfg_.dvr_window_ms || cfg.input_gap_ms != file_cfg_.input_gap_ms ||
      !(cfg.ingest == file_cfg_.ingest))
    return refuse(
        "store_path, target_duration, part_target, window_segments, dvr_window, input_gap and "
        "the srt/rtmp listeners need a restart");
  ChannelOverlay overlay = overlay_;
  overlay.prune(cfg.channels);
  auto in_effect = overlay.effective(cfg.channels);
  for (size_t i = 0; i < in_effect.size(); ++i) {
    std::vector<LiveChannelConfig> others(in_effect.begin(), in_effect.begin() + ptrdiff_t(i));
    if (auto problem = channel_problem(in_effect[i], others))
      return refuse("channel " + in_effect[i].name + ": " + *problem +
                    " (with the channels added through the API)");
  }
  file_cfg_ = cfg;
  overlay_ = std::move(overlay);
  commit();
  count_reload("ok");
  return {};
}

}  // namespace cdn::origin
