#include "common/net/redis_connection.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include <algorithm>
#include <memory>

#include "common/util/clock.h"

namespace cdn::net {

namespace {
void close_timer(uv_timer_t* t) {
  uv_timer_stop(t);
  uv_close(reinterpret_cast<uv_handle_t*>(t),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

std::vector<const char*> pointers(const std::vector<std::string>& argv, std::vector<size_t>& lens) {
  std::vector<const char*> ptrs;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return ptrs;
}
}  // namespace

struct RedisConnection::Pending {
  RedisConnection* self;
  ReplyFn on_reply;
};

RedisConnection::RedisConnection(uv_loop_s* loop, RedisConnectionOptions options,
                                 std::function<void()> on_up,
                                 std::function<void(std::string_view)> on_down)
    : loop_(loop),
      opts_(std::move(options)),
      on_up_(std::move(on_up)),
      on_down_(std::move(on_down)),
      backoff_ms_(opts_.reconnect_min_ms),
      reconnect_timer_(new uv_timer_t),
      watchdog_timer_(new uv_timer_t) {
  uv_timer_init(loop_, reconnect_timer_);
  uv_timer_init(loop_, watchdog_timer_);
  reconnect_timer_->data = this;
  watchdog_timer_->data = this;
  auto period = static_cast<uint64_t>(std::max<int64_t>(opts_.command_timeout_ms / 4, 10));
  uv_timer_start(
      watchdog_timer_, [](uv_timer_t* t) { static_cast<RedisConnection*>(t->data)->watchdog(); },
      period, period);
  connect();
}

RedisConnection::~RedisConnection() {
  destroying_ = true;
  close_timer(reconnect_timer_);
  close_timer(watchdog_timer_);
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    redisAsyncFree(ac);  // answers every pending callback with a null reply
  }
}

void RedisConnection::connect() {
  redisAsyncContext* ac = redisAsyncConnect(opts_.host.c_str(), opts_.port);
  if (!ac || ac->err) {
    std::string why = ac ? ac->errstr : "out of memory";
    if (ac) redisAsyncFree(ac);
    lost(why);
    return;
  }
  ac->data = this;
  if (redisLibuvAttach(ac, loop_) != REDIS_OK) {
    redisAsyncFree(ac);
    lost("libuv attach failed");
    return;
  }
  redisAsyncSetConnectCallback(ac, [](const redisAsyncContext* c, int status) {
    static_cast<RedisConnection*>(c->data)->on_connected(status);
  });
  redisAsyncSetDisconnectCallback(ac, [](const redisAsyncContext* c, int) {
    static_cast<RedisConnection*>(c->data)->on_disconnected();
  });
  ac_ = ac;
  connect_started_ms_ = mono_ms();
}

void RedisConnection::schedule_reconnect() {
  if (destroying_) return;
  uv_timer_start(
      reconnect_timer_, [](uv_timer_t* t) { static_cast<RedisConnection*>(t->data)->connect(); },
      static_cast<uint64_t>(backoff_ms_), 0);
  backoff_ms_ = std::min(backoff_ms_ * 2, opts_.reconnect_max_ms);
}

void RedisConnection::on_connected(int status) {
  if (status != REDIS_OK) {
    ac_ = nullptr;  // hiredis frees the context after this callback returns
    lost("connect failed");
    return;
  }
  connected_ = true;
  if (opts_.password.empty()) return ready();
  std::vector<std::string> auth = {"AUTH"};
  if (!opts_.username.empty()) auth.push_back(opts_.username);
  auth.push_back(opts_.password);
  send(auth, [this](redisReply* r) {
    if (!r) return;  // the connection went meanwhile
    // Refused (WRONGPASS, or NOAUTH/ERR from a server without a password: our configuration is
    // wrong, not the network): dropped by the watchdog, not from inside hiredis's own reply
    // callback; the next connect, with backoff, tries again (e.g. after the ACL is fixed).
    if (r->type == REDIS_REPLY_ERROR)
      auth_refused_ = "AUTH refused: " + std::string(r->str, r->len);
    else if (r->type == REDIS_REPLY_STATUS)
      ready();
    else
      auth_refused_ = "AUTH refused: unexpected reply";
  });
}

void RedisConnection::ready() {
  backoff_ms_ = opts_.reconnect_min_ms;
  reported_down_.clear();
  ready_ = true;
  if (!opts_.client_name.empty())
    send({"CLIENT", "SETNAME", opts_.client_name}, [](redisReply*) {});
  if (on_up_) on_up_();
}

void RedisConnection::on_disconnected() {
  if (destroying_ || dropping_) return;
  ac_ = nullptr;  // hiredis frees the context after this callback returns
  lost("connection lost");
}

void RedisConnection::lost(std::string_view why) {
  connected_ = false;
  ready_ = false;
  auth_refused_.clear();
  sent_at_ms_.clear();
  on_message_ = nullptr;
  schedule_reconnect();
  // Once per reason while down: a Redis that stays away is one report, not one per attempt.
  if (why == reported_down_) return;
  reported_down_ = why;
  if (on_down_) on_down_(why);
}

void RedisConnection::drop(std::string_view why) {
  redisAsyncContext* ac = ac_;
  ac_ = nullptr;
  // Not redisAsyncDisconnect: that waits for replies a hung server never sends.
  dropping_ = true;
  redisAsyncFree(ac);
  dropping_ = false;
  lost(why);
}

void RedisConnection::watchdog() {
  if (!ac_) return;
  if (!auth_refused_.empty()) {
    std::string why = std::move(auth_refused_);
    drop(why);
    return;
  }
  int64_t now = mono_ms();
  // hiredis's libuv adapter drops poll errors, so a refused connect is never reported: a connect
  // that has not completed in time is abandoned here instead.
  if (!connected_ && now - connect_started_ms_ >= opts_.command_timeout_ms)
    drop("connect timeout");
  else if (!sent_at_ms_.empty() && now - sent_at_ms_.front() >= opts_.command_timeout_ms)
    drop("reply timeout");
}

void RedisConnection::reply_cb(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(privdata));
  if (!p->self->sent_at_ms_.empty()) p->self->sent_at_ms_.pop_front();
  p->on_reply(static_cast<redisReply*>(reply));
}

void RedisConnection::message_cb(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self->on_message_ && reply) self->on_message_(static_cast<redisReply*>(reply));
}

bool RedisConnection::send(const std::vector<std::string>& argv, ReplyFn on_reply) {
  if (!ac_ || !connected_) return false;
  std::vector<size_t> lens;
  auto ptrs = pointers(argv, lens);
  auto* p = new Pending{this, std::move(on_reply)};
  if (redisAsyncCommandArgv(ac_, reply_cb, p, int(argv.size()), ptrs.data(), lens.data()) !=
      REDIS_OK) {
    delete p;
    return false;
  }
  sent_at_ms_.push_back(mono_ms());
  return true;
}

bool RedisConnection::subscribe(const std::string& channel,
                                std::function<void(redisReply*)> on_message) {
  if (!ac_ || !connected_) return false;
  std::vector<std::string> argv = {"SUBSCRIBE", channel};
  std::vector<size_t> lens;
  auto ptrs = pointers(argv, lens);
  on_message_ = std::move(on_message);
  return redisAsyncCommandArgv(ac_, message_cb, nullptr, int(argv.size()), ptrs.data(),
                               lens.data()) == REDIS_OK;
}

}  // namespace cdn::net
