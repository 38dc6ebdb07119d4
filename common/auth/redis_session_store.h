#pragma once
// Fleet-wide session store on Redis (one net::RedisConnection on the worker's libuv loop). Not
// thread-safe by design: one instance per worker loop, every call and the destructor on that
// loop's thread.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/auth/memory_session_store.h"
#include "common/auth/renewal_cache.h"
#include "common/auth/session_store.h"
#include "common/net/redis_connection.h"
#include "common/util/clock.h"

struct redisReply;
struct uv_loop_s;

namespace cdn::auth {

enum class WhenRedisDown {
  FailOpen,   // admit with a local in-process store (limits hold per edge only until recovery)
  FailClosed  // new sessions and due renewals get Admit::Unavailable
};

// What the stores of every worker loop of a process report for /healthz (read from any thread):
// how many have no usable Redis connection now, and how many of those Redis refused at AUTH.
struct RedisHealth {
  std::atomic<int64_t> down{0};
  std::atomic<int64_t> auth_refused{0};
};

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // AUTH after every connect when password is set: "AUTH username password" (Redis 6 ACL user)
  // or "AUTH password" (requirepass). Until Redis accepts it the store is down (when_down applies).
  std::string username;
  std::string password;
  std::shared_ptr<RedisHealth> health;  // null = not reported
  std::string key_prefix = "cdn:sess:";
  SessionRules rules;
  // A live session is renewed in Redis at most once per interval; in between this edge answers
  // Allowed from memory. So an eviction decided on another edge is seen within this interval.
  // Clamped to lease_ms / 3 so a lease never lapses between renewals.
  int64_t renew_interval_ms = 10000;
  WhenRedisDown when_down = WhenRedisDown::FailOpen;
  int64_t reconnect_min_ms = 100;
  int64_t reconnect_max_ms = 5000;
  // A reply older than this means Redis hangs: the connection is dropped (pending requests follow
  // the when_down policy) and re-established.
  int64_t command_timeout_ms = 1000;
  std::function<int64_t()> clock = unix_now_ms;  // for list/kick and the renewal cache
  std::function<void(std::string_view)> log;     // state changes (down/up); default stderr
  // Shared by the stores of every worker loop of a process (see RenewalCache); null = its own.
  std::shared_ptr<RenewalCache> renewals;
};

class RedisSessionStore final : public SessionStore {
 public:
  RedisSessionStore(uv_loop_s* loop, RedisStoreOptions options);
  // Answers pending requests (per when_down) and closes the connection's handles; run the loop
  // afterwards so libuv can finish closing them.
  ~RedisSessionStore() override;
  RedisSessionStore(const RedisSessionStore&) = delete;
  RedisSessionStore& operator=(const RedisSessionStore&) = delete;

  void admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
             std::function<void(Admit)> done) override;
  void list(const std::string& sub, std::function<void(std::vector<SessionInfo>)> done) override;
  void kick(const SessionKey& key, std::function<void(bool)> done) override;

  bool connected() const { return redis_ && redis_->connected(); }
  // A config reload: takes the rules, key prefix, renewal interval and when_down of `next` at
  // once. False (and nothing changed) when `next` needs another connection (address, user,
  // password, command timeout): the owner then replaces the store.
  bool update(const RedisStoreOptions& next);

 private:
  using ReplyFn = net::RedisConnection::ReplyFn;  // nullptr reply = Redis unavailable

  enum class Link { Up, Down, AuthRefused };
  void on_up();
  void on_down(std::string_view why);
  void set_link(Link link);
  // EVALSHA, and EVAL once when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
  void run_script(const char* script, const std::string& sha, std::vector<std::string> args,
                  ReplyFn on_reply);
  void fallback_admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
                      const std::function<void(Admit)>& done);
  std::string live_key(const std::string& sub) const;
  std::string evicted_key(const std::string& sub) const;
  void log(std::string_view msg) const;

  RedisStoreOptions opts_;
  Link link_ = Link::Up;  // for opts_.health; the constructor counts the store down until up
  bool was_up_ = true;    // for logging transitions once
  std::string admit_sha_, kick_sha_, list_sha_;
  std::shared_ptr<RenewalCache> renewals_;
  MemorySessionStore fallback_;
  // Last: its pending replies are answered (null: when_down applies) while the rest still lives.
  std::unique_ptr<net::RedisConnection> redis_;
};

}  // namespace cdn::auth
