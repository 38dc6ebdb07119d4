#include "common/cache/surrogate_index.h"

namespace cdn::cache {

namespace {
// A hash or tree node's own overhead (links, cached hash, allocator header) and a string's
// control block.
constexpr size_t kNodeOverhead = 32;
constexpr size_t kStringOverhead = sizeof(std::string);
}  // namespace

void SurrogateIndex::set(const std::string& key_text, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  remove_locked(key_text);
  if (keys.empty()) return;
  auto object = by_object_.emplace(key_text, std::vector<std::string_view>()).first;
  string_bytes_ += key_text.size();
  for (const auto& k : keys) {
    auto [entry, new_key] = by_key_.try_emplace(k);
    if (new_key) string_bytes_ += k.size();
    if (!entry->second.insert(std::string_view(object->first)).second) continue;  // a repeated key
    object->second.push_back(std::string_view(entry->first));
    ++links_;
  }
}

void SurrogateIndex::remove(std::string_view key_text) {
  std::lock_guard lock(mu_);
  remove_locked(key_text);
}

void SurrogateIndex::remove_locked(std::string_view key_text) {
  auto it = by_object_.find(key_text);
  if (it == by_object_.end()) return;
  for (std::string_view k : it->second) {
    auto set = by_key_.find(std::string(k));
    if (set == by_key_.end()) continue;
    set->second.erase(std::string_view(it->first));
    if (set->second.empty()) {
      string_bytes_ -= set->first.size();
      by_key_.erase(set);  // `k` dangles from here on; it is not read again
    }
  }
  string_bytes_ -= it->first.size();
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
  // Strings and their nodes once each; per link a set member (node + view) and a list entry.
  const size_t nodes = by_object_.size() + by_key_.size();
  return string_bytes_ + nodes * (kNodeOverhead + kStringOverhead) +
         by_object_.size() * sizeof(std::vector<std::string_view>) +
         links_ * (kNodeOverhead + 2 * sizeof(std::string_view)) +
         by_key_.bucket_count() * sizeof(void*);
}

}  // namespace cdn::cache
