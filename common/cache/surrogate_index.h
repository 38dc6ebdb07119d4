#pragma once
// Which stored objects carry which surrogate key, in memory: a purge by key looks its objects up
// here instead of scanning the caches. Filled when an object is stored (and from the disk tier's
// key records at start), emptied when an object is purged or leaves the disk tier. Thread-safe:
// fills store on every loop, purges run on the purge job thread.
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cdn::cache {

class SurrogateIndex {
 public:
  // Records that `key_text` now carries exactly `keys` (replacing what it carried before).
  void set(const std::string& key_text, const std::vector<std::string>& keys);
  // Forgets the object (any keys it carried), or every object under a key-text prefix.
  void remove(std::string_view key_text);
  void remove_prefix(std::string_view key_text_prefix);
  // The key texts of the objects carrying `key`.
  std::vector<std::string> objects_with(std::string_view key) const;

  size_t keys() const;     // distinct surrogate keys
  size_t objects() const;  // objects with at least one key
  // An estimate of the heap the index holds (strings, nodes, buckets), for the metric and bench.
  size_t bytes() const;

 private:
  void remove_locked(std::string_view key_text);

  // Each key text and each surrogate key is held once, as a map key (whose address is stable);
  // the other direction holds views of it.
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unordered_set<std::string_view>> by_key_;
  std::map<std::string, std::vector<std::string_view>, std::less<>>
      by_object_;            // ordered: prefixes
  size_t string_bytes_ = 0;  // bytes of the key texts and surrogate keys held
  size_t links_ = 0;         // (object, key) pairs
};

}  // namespace cdn::cache
