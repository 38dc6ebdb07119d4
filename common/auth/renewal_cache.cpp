#include "common/auth/renewal_cache.h"

namespace cdn::auth {

bool RenewalCache::fresh(const SessionKey& key, int64_t now_ms, int64_t interval_ms) {
  std::lock_guard lock(mu_);
  if (now_ms - swept_ms_ >= interval_ms) {
    swept_ms_ = now_ms;
    for (auto it = by_viewer_.begin(); it != by_viewer_.end();) {
      std::erase_if(it->second, [&](const auto& e) { return now_ms - e.second >= interval_ms; });
      if (it->second.empty())
        it = by_viewer_.erase(it);
      else
        ++it;
    }
  }
  auto v = by_viewer_.find(key.sub);
  if (v == by_viewer_.end()) return false;
  auto s = v->second.find({key.sid, key.place});
  return s != v->second.end() && now_ms - s->second < interval_ms;
}

void RenewalCache::confirmed(const SessionKey& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  by_viewer_[key.sub][{key.sid, key.place}] = now_ms;
}

void RenewalCache::forget(const SessionKey& key) {
  std::lock_guard lock(mu_);
  if (auto v = by_viewer_.find(key.sub); v != by_viewer_.end())
    v->second.erase({key.sid, key.place});
}

void RenewalCache::forget_viewer(const std::string& sub) {
  std::lock_guard lock(mu_);
  by_viewer_.erase(sub);
}

void RenewalCache::forget_sid(const std::string& sub, const std::string& sid) {
  std::lock_guard lock(mu_);
  auto v = by_viewer_.find(sub);
  if (v == by_viewer_.end()) return;
  std::erase_if(v->second, [&](const auto& e) { return e.first.first == sid; });
}

}  // namespace cdn::auth
