#include "geo/data_watcher.h"

#include <sys/stat.h>

#include "common/obs/log.h"

namespace cdn::geo {

DataWatcher::DataWatcher(Locator& locator, const GeoConfig& cfg) : locator_(locator), cfg_(cfg) {
  for (const std::string* p : {&cfg.coverage_zones, &cfg.maxmind})
    if (!p->empty()) files_.emplace_back(*p, stamp_of(*p));
}

DataWatcher::Stamp DataWatcher::stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, st.st_size};
}

bool DataWatcher::check() {
  bool changed = false;
  for (auto& [path, seen] : files_) {
    Stamp now = stamp_of(path);
    if (now == seen) continue;
    seen = now;
    changed = true;
  }
  if (!changed) return false;
  if (auto r = locator_.reload(cfg_); !r) {
    obs::log(obs::Level::Error,
             "geo reload failed, keeping the old coverage zones and MaxMind data",
             {{"trigger", "file-change"}, {"error", r.error().message}});
    return false;
  }
  obs::log(obs::Level::Info, "geo data reloaded", {{"trigger", "file-change"}});
  return true;
}

}  // namespace cdn::geo
