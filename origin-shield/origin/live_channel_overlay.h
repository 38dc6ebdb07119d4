#pragma once
// Channel changes made through the admin API, kept on top of the config file's `live.channels`
// and persisted in the live store, so a restart keeps them.
//
// How the two combine: an entry names one channel and either defines it (added, or its key
// rotated: the definition replaces the file's) or removes it. Each entry remembers the file's
// definition of its channel when the entry was made; once the file's definition differs (edited,
// added or dropped, noticed at start or on SIGHUP), the file's is the later change and the entry is
// dropped. So the latest change wins, whichever side made it.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/json.h"
#include "common/util/result.h"
#include "origin-shield/origin/live_config.h"

namespace cdn::origin {

class ChannelOverlay {
 public:
  // The channels in effect: the file's in file order (with replaced definitions, without removed
  // channels), then the channels only the API added, by name.
  std::vector<LiveChannelConfig> effective(const std::vector<LiveChannelConfig>& file) const;
  // Drops the entries whose channel the file changed since they were made; returns their names.
  std::vector<std::string> prune(const std::vector<LiveChannelConfig>& file);
  // Records a definition (add or new key) or a removal of `name`, over `file`.
  void define(LiveChannelConfig ch, const std::vector<LiveChannelConfig>& file);
  void remove(const std::string& name, const std::vector<LiveChannelConfig>& file);
  // True if `name` is in effect because of an entry (added or redefined through the API).
  bool defines(std::string_view name) const;
  size_t size() const { return entries_.size(); }

  std::string serialize() const;  // JSON
  static Result<ChannelOverlay> parse(std::string_view json);

 private:
  struct Entry {
    std::optional<LiveChannelConfig> channel;  // nullopt: removed
    std::string file_digest;                   // the file's definition when made ("" = absent)
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// A channel definition as JSON: {name, stream_key, renditions: [{name, udp?, udp_backup?}]}.
auth::json::Value channel_to_json(const LiveChannelConfig& ch);
// The reverse; a missing stream_key is left empty (the caller generates one or refuses). The error
// is a short reason for a 400 (bad-json-field, unknown-field, bad-udp-address); the rules on
// names, keys and addresses are channel_problem's.
Result<LiveChannelConfig> channel_from_json(const auth::json::Value& v);

// A digest of a channel's definition (name, key, renditions, inputs); "" for none.
std::string channel_digest(const LiveChannelConfig* ch);

}  // namespace cdn::origin
