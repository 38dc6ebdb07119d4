#pragma once
// S3-FIFO eviction (Yang et al., SOSP'23) for one shard; not thread-safe, the caller locks.
// New keys enter a small probationary FIFO (~10% of the budget); only keys read again while there
// move to the main FIFO, so a one-pass scan of cold keys cannot flush the hot set the way it
// flushes an LRU. Keys evicted from the small FIFO are remembered in a ghost FIFO of hashes, and
// come back straight into main if they are requested again soon.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/cache/object.h"

namespace cdn::cache {

class S3Fifo {
 public:
  explicit S3Fifo(size_t byte_budget);

  // nullptr unless a node with this hash holds exactly this key text; a hit counts as one access.
  ObjectRef get(uint64_t hash, std::string_view key_text);

  struct PutResult {
    bool admitted = false;
    size_t evicted = 0;
    std::vector<std::string> evicted_keys;  // only with keep_evicted_keys(true)
  };
  // Report the key texts that eviction removed (for an index that must forget them).
  void keep_evicted_keys(bool on) { keep_evicted_keys_ = on; }
  // Replaces any previous object for the key; an object whose charge exceeds the whole budget is
  // refused and the previous (now outdated) object is dropped as well.
  PutResult put(uint64_t hash, std::string key_text, ObjectRef obj, size_t charge);

  bool erase(uint64_t hash, std::string_view key_text);
  size_t erase_prefix(std::string_view key_text_prefix);
  // Replaces the object of this key (or of every key under the prefix) with what `with` makes of
  // it, in place: no access is counted and the queue position stays. `with` must not change the
  // object's charge (a soft purge flips a flag). Returns how many were replaced.
  using Rewrite = std::function<ObjectRef(const ObjectRef&)>;
  bool rewrite(uint64_t hash, std::string_view key_text, const Rewrite& with);
  size_t rewrite_prefix(std::string_view key_text_prefix, const Rewrite& with);

  size_t bytes() const { return small_bytes_ + main_bytes_; }
  size_t count() const { return nodes_.size(); }
  size_t budget() const { return budget_; }

 private:
  struct Node {
    std::string key_text;
    ObjectRef obj;
    size_t charge = 0;
    uint8_t freq = 0;  // saturating 2-bit access counter
    bool in_main = false;
    std::list<uint64_t>::iterator pos;
  };

  size_t evict_until_within_budget();
  bool evict_from_small();  // true when an object left the cache (not just moved to main)
  bool evict_from_main();
  void unlink(Node& n);
  void remove(uint64_t hash);
  void remember_ghost(uint64_t hash);
  bool take_ghost(uint64_t hash);

  size_t budget_;
  size_t small_target_;
  size_t small_bytes_ = 0, main_bytes_ = 0;
  std::unordered_map<uint64_t, Node> nodes_;
  std::list<uint64_t> small_, main_;  // front = newest
  // Ghost FIFO: a deque in insertion order plus the live set keyed by hash. Entries consumed by a
  // ghost hit stay in the deque until they age out; the sequence number tells them apart.
  std::deque<std::pair<uint64_t, uint64_t>> ghost_fifo_;
  std::unordered_map<uint64_t, uint64_t> ghost_live_;
  uint64_t ghost_seq_ = 0;
  bool keep_evicted_keys_ = false;
  std::vector<std::string> evicted_keys_;  // filled during one put()
};

}  // namespace cdn::cache
