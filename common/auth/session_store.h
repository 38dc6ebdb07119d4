#pragma once
// Concurrent stream limits: a stream session is (sub, sid) holding a lease that every request
// renews. The store decides admission; implementations: MemorySessionStore (one edge) and
// RedisSessionStore (a fleet).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cdn::auth {

struct SessionKey {
  std::string sub, sid;
};

enum class Admit {
  Allowed,
  Evicted,       // this session was evicted earlier (a newer one took its slot, or it was kicked)
  LimitReached,  // BLOCK_NEW: the viewer already has `limit` live sessions
  Unavailable,   // the shared store is unreachable and the policy is fail-closed
};

struct SessionInfo {
  std::string sub, sid;
  int64_t started_ms = 0;
  int64_t renewed_ms = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // Asynchronous by contract (the Redis store replies later, on its loop thread); the in-process
  // store calls `done` before returning. limit <= 0 means unlimited.
  // Rules: a live session's renewal is always Allowed; a new session beyond `limit` evicts the
  // oldest live one by start time (block_new = false) or is refused (block_new = true).
  virtual void admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
                     std::function<void(Admit)> done) = 0;
  virtual void list(const std::string& sub, std::function<void(std::vector<SessionInfo>)> done) = 0;
  // Ends a session; its next request gets Evicted. done(false) when it was not live.
  virtual void kick(const SessionKey& key, std::function<void(bool)> done) = 0;
};

struct SessionTiming {
  int64_t lease_ms = 30000;  // a session not renewed for this long has stopped and frees its slot
  // How long an evicted sid keeps answering Evicted (after that it would count as a new session).
  int64_t evicted_memory_ms = 10 * 60 * 1000;
};

}  // namespace cdn::auth
