#pragma once
// When Redis last confirmed each stream's lease, so a Redis session store answers Allowed from
// memory between renewals. One cache is shared by the stores of every worker loop of a process:
// when one loop's admission may have evicted a viewer's other streams it forgets that viewer, and
// the other loops ask Redis again at once instead of answering Allowed until their next renewal.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/auth/session_store.h"

namespace cdn::auth {

class RenewalCache {
 public:
  // Confirmed less than interval_ms ago. Entries older than that are swept now and then.
  bool fresh(const SessionKey& key, int64_t now_ms, int64_t interval_ms);
  void confirmed(const SessionKey& key, int64_t now_ms);
  void forget(const SessionKey& key);
  void forget_viewer(const std::string& sub);
  void forget_sid(const std::string& sub, const std::string& sid);  // at every place

 private:
  using Streams = std::map<std::pair<std::string, std::string>, int64_t>;  // (sid, place) → when
  std::mutex mu_;
  std::unordered_map<std::string, Streams> by_viewer_;
  int64_t swept_ms_ = 0;
};

}  // namespace cdn::auth
