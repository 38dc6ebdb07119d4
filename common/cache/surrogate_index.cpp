#include "common/cache/surrogate_index.h"

namespace cdn::cache {

namespace {
// Per hash node (next pointer, cached hash, allocator header) and per std::string held.
constexpr size_t kNodeOverhead = 32;
constexpr size_t kStringOverhead = sizeof(std::string);
}  // namespace

void SurrogateIndex::set(const std::string& key_text, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  remove_locked(key_text);
  if (keys.empty()) return;
  for (const auto& k : keys) {
    if (by_key_[k].insert(key_text).second) string_bytes_ += key_text.size();
  }
  links_ += keys.size();
  for (const auto& k : keys) string_bytes_ += k.size();
  by_object_.emplace(key_text, keys);
  string_bytes_ += key_text.size();
}

void SurrogateIndex::remove(std::string_view key_text) {
  std::lock_guard lock(mu_);
  remove_locked(std::string(key_text));
}

void SurrogateIndex::remove_locked(const std::string& key_text) {
  auto it = by_object_.find(key_text);
  if (it == by_object_.end()) return;
  for (const auto& k : it->second) {
    string_bytes_ -= k.size();
    auto set = by_key_.find(k);
    if (set == by_key_.end()) continue;
    if (set->second.erase(key_text)) string_bytes_ -= key_text.size();
    if (set->second.empty()) by_key_.erase(set);
  }
  string_bytes_ -= key_text.size();
  links_ -= it->second.size();
  by_object_.erase(it);
}

void SurrogateIndex::remove_prefix(std::string_view prefix) {
  std::lock_guard lock(mu_);
  std::vector<std::string> victims;
  for (auto it = by_object_.lower_bound(prefix);
       it != by_object_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it)
    victims.push_back(it->first);
  for (const auto& v : victims) remove_locked(v);
}

std::vector<std::string> SurrogateIndex::objects_with(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

size_t SurrogateIndex::keys() const {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

size_t SurrogateIndex::objects() const {
  std::lock_guard lock(mu_);
  return by_object_.size();
}

size_t SurrogateIndex::bytes() const {
  std::lock_guard lock(mu_);
  // Each link (object, key) is one set member (a node holding a key text) and one list entry.
  return string_bytes_ +
         (by_object_.size() + by_key_.size() + links_) * (kNodeOverhead + kStringOverhead) +
         links_ * kStringOverhead + by_key_.bucket_count() * sizeof(void*);
}

}  // namespace cdn::cache
