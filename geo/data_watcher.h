#pragma once
// Reloads the coverage zones and the MaxMind database when either file changes on disk (size or
// modification time, one stat each per check: cheap enough for every health interval). A broken
// new file is logged once and the old data stays in use until the file changes again.
#include <sys/types.h>

#include <string>
#include <vector>

#include "geo/geo_config.h"
#include "geo/locator.h"

namespace cdn::geo {

class DataWatcher {
 public:
  DataWatcher(Locator& locator, const GeoConfig& cfg);
  // Call from one thread (the poller's loop). Returns true when the data was reloaded.
  bool check();

 private:
  struct Stamp {
    int64_t mtime_ns = -1;
    off_t size = -1;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp stamp_of(const std::string& path);

  Locator& locator_;
  const GeoConfig& cfg_;
  std::vector<std::pair<std::string, Stamp>> files_;
};

}  // namespace cdn::geo
