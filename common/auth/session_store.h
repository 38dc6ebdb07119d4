#pragma once
// Concurrent stream limits: a stream session is (sub, sid, place) holding a lease that every
// request renews. The place (the client address cut to a prefix, auth::address_place) is what makes
// a shared token count: the same sid played from two places is two streams, or refused. The store decides admission; implementations: MemorySessionStore (one edge) and
// RedisSessionStore (a fleet).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cdn::auth {

struct SessionKey {
  SessionKey(std::string sub_, std::string sid_, std::string place_ = {})
      : sub(std::move(sub_)), sid(std::move(sid_)), place(std::move(place_)) {}
  std::string sub, sid;
  // Where the stream started; never contains '\n' (stores join sid and place with it). Empty for
  // callers that do not track places; kick() ignores it and ends the sid at every place.
  std::string place;
};

enum class Admit {
  Allowed,
  Evicted,       // this session was evicted earlier (a newer one took its slot, or it was kicked)
  LimitReached,  // BLOCK_NEW: the viewer already has `limit` live sessions
  Unavailable,   // the shared store is unreachable and the policy is fail-closed
  // SidElsewhere::NewStream: admitted as another stream while the same sid is live at another place.
  AllowedNewPlace,
  InUseElsewhere,  // SidElsewhere::Refuse: the same sid is live at another place
};

// What a sid seen at a second place while its lease there is live means.
enum class SidElsewhere { NewStream, Refuse };

struct SessionInfo {
  std::string sub, sid, place;
  int64_t started_ms = 0;
  int64_t renewed_ms = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // Asynchronous by contract (the Redis store replies later, on its loop thread); the in-process
  // store calls `done` before returning. limit <= 0 means unlimited.
  // Rules: a live session's renewal (same sid, same place) is always Allowed; a sid live at another
  // place is refused (SidElsewhere::Refuse) or is a new session (NewStream); a new session beyond
  // `limit` evicts the oldest live one by start time (block_new = false) or is refused (true).
  virtual void admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
                     std::function<void(Admit)> done) = 0;
  virtual void list(const std::string& sub, std::function<void(std::vector<SessionInfo>)> done) = 0;
  // Ends the sid at every place; its next request gets Evicted. done(false) when none was live.
  virtual void kick(const SessionKey& key, std::function<void(bool)> done) = 0;
};

struct SessionRules {
  int64_t lease_ms = 30000;  // a session not renewed for this long has stopped and frees its slot
  // How long an evicted sid keeps answering Evicted (after that it would count as a new session).
  int64_t evicted_memory_ms = 10 * 60 * 1000;
  SidElsewhere sid_elsewhere = SidElsewhere::NewStream;
};

}  // namespace cdn::auth
