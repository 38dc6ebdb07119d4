#pragma once
// One hiredis async connection on a libuv loop that keeps itself up: reconnects with backoff,
// drops a connection whose connect or oldest reply takes longer than the command timeout (a hung
// Redis), and tells its owner when it comes up or goes down. Not thread-safe: every call and the
// destructor on the loop's thread. Fleet purges (common/proxy/fleet_purge.*) and the edges'
// session store (common/auth/redis_session_store.*) use it. A subscriber connection is this plus
// subscribe().
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;
struct redisReply;
struct uv_loop_s;
struct uv_timer_s;

namespace cdn::net {

struct RedisConnectionOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string client_name;  // CLIENT SETNAME on every connect (operators and tests find it)
  // AUTH after every connect when password is set: "AUTH username password" (an ACL user) or
  // "AUTH password" (requirepass). Refused: the connection is dropped and tried again later.
  std::string username, password;
  int64_t command_timeout_ms = 1000;
  int64_t reconnect_min_ms = 50;
  int64_t reconnect_max_ms = 2000;
};

class RedisConnection {
 public:
  using ReplyFn = std::function<void(redisReply*)>;  // nullptr reply = no answer (connection gone)
  // on_up runs after every (re)connect (and AUTH); on_down when an attempt fails or a connection
  // is lost, once per reason until the next on_up ("AUTH refused: WRONGPASS ...", "connect
  // timeout", "reply timeout", "connection lost", ...); both on the loop.
  RedisConnection(uv_loop_s* loop, RedisConnectionOptions options, std::function<void()> on_up,
                  std::function<void(std::string_view why)> on_down);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connected and authenticated: commands go to Redis.
  bool connected() const { return ready_; }
  // False (and on_reply not called) when there is no connection.
  bool send(const std::vector<std::string>& argv, ReplyFn on_reply);
  // SUBSCRIBE: on_message gets every message's payload (and the subscription's confirmation as a
  // reply of type array whose first element is "subscribe", which it may ignore). Exempt from the
  // reply timeout. False when there is no connection.
  bool subscribe(const std::string& channel, std::function<void(redisReply*)> on_message);

 private:
  struct Pending;
  void connect();
  void schedule_reconnect();
  void on_connected(int status);
  void ready();
  void on_disconnected();
  void watchdog();
  void drop(std::string_view why);
  void lost(std::string_view why);
  static void reply_cb(redisAsyncContext* ac, void* reply, void* privdata);
  static void message_cb(redisAsyncContext* ac, void* reply, void* privdata);

  uv_loop_s* loop_;
  RedisConnectionOptions opts_;
  std::function<void()> on_up_;
  std::function<void(std::string_view)> on_down_;
  redisAsyncContext* ac_ = nullptr;
  bool connected_ = false;  // the socket is up (AUTH may still be outstanding)
  bool ready_ = false;
  bool destroying_ = false, dropping_ = false;
  std::string auth_refused_;  // the reason, until the watchdog drops the connection
  std::string reported_down_;  // the last reason given to on_down since the last on_up
  int64_t connect_started_ms_ = 0;
  int64_t backoff_ms_;
  uv_timer_s* reconnect_timer_;
  uv_timer_s* watchdog_timer_;
  std::deque<int64_t> sent_at_ms_;  // Redis answers in order: front = oldest outstanding
  std::function<void(redisReply*)> on_message_;
};

}  // namespace cdn::net
