#include "common/auth/redis_session_store.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/auth/base64url.h"
#include "common/auth/ossl.h"
#include "common/auth/redis_scripts.h"
#include "common/util/strings.h"

namespace cdn::auth {
namespace {

std::string sha1_hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const ossl::Md sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  if (EVP_Digest(text.data(), text.size(), md, &len, sha1.get(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Admit admit_of(long long code) {
  switch (code) {
    case 0: return Admit::Allowed;
    case 1: return Admit::Evicted;
    case 3: return Admit::AllowedNewPlace;
    case 4: return Admit::InUseElsewhere;
    default: return Admit::LimitReached;
  }
}

void close_timer(uv_timer_t* t) {
  uv_timer_stop(t);
  uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

}  // namespace

struct RedisSessionStore::Pending {
  RedisSessionStore* self;
  ReplyFn on_reply;
};

RedisSessionStore::RedisSessionStore(uv_loop_s* loop, RedisStoreOptions options)
    : loop_(loop),
      opts_(std::move(options)),
      backoff_ms_(opts_.reconnect_min_ms),
      reconnect_timer_(new uv_timer_t),
      watchdog_timer_(new uv_timer_t),
      admit_sha_(sha1_hex(redis_scripts::kAdmit)),
      kick_sha_(sha1_hex(redis_scripts::kKick)),
      list_sha_(sha1_hex(redis_scripts::kList)),
      renewals_(opts_.renewals ? opts_.renewals : std::make_shared<RenewalCache>()),
      fallback_(opts_.rules, 1000000, opts_.clock) {
  opts_.renew_interval_ms = std::clamp<int64_t>(opts_.renew_interval_ms, 0, opts_.rules.lease_ms / 3);
  uv_timer_init(loop_, reconnect_timer_);
  uv_timer_init(loop_, watchdog_timer_);
  reconnect_timer_->data = this;
  watchdog_timer_->data = this;
  auto period = static_cast<uint64_t>(std::max<int64_t>(opts_.command_timeout_ms / 2, 10));
  uv_timer_start(watchdog_timer_, [](uv_timer_t* t) { static_cast<RedisSessionStore*>(t->data)->watchdog(); },
                 period, period);
  // The watchdog stays referenced: when a refused connect stops the adapter's poll handle, it may
  // be the only thing left that keeps the loop running the reconnect logic.
  set_link(Link::Down);
  connect();
}

void RedisSessionStore::set_link(Link link) {
  if (link == link_) return;
  if (auto& h = opts_.health) {
    // Each store adds itself to the process's counts while its link is in that state.
    if (link_ != Link::Up) h->down.fetch_sub(1, std::memory_order_relaxed);
    if (link_ == Link::AuthRefused) h->auth_refused.fetch_sub(1, std::memory_order_relaxed);
    if (link != Link::Up) h->down.fetch_add(1, std::memory_order_relaxed);
    if (link == Link::AuthRefused) h->auth_refused.fetch_add(1, std::memory_order_relaxed);
  }
  link_ = link;
}

RedisSessionStore::~RedisSessionStore() {
  destroying_ = true;
  set_link(Link::Up);  // a store that is gone is not down: it leaves the counts
  close_timer(reconnect_timer_);
  close_timer(watchdog_timer_);
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    redisAsyncFree(ac);  // calls every pending callback with a null reply
  }
}

void RedisSessionStore::log(std::string_view msg) const {
  if (opts_.log) opts_.log(msg);
  else std::fprintf(stderr, "session store: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void RedisSessionStore::connect() {
  redisAsyncContext* ac = redisAsyncConnect(opts_.host.c_str(), opts_.port);
  if (!ac || ac->err) {
    mark_down(ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    schedule_reconnect();
    return;
  }
  ac->data = this;
  if (redisLibuvAttach(ac, loop_) != REDIS_OK) {
    redisAsyncFree(ac);
    mark_down("libuv attach failed");
    schedule_reconnect();
    return;
  }
  redisAsyncSetConnectCallback(ac, connect_cb);
  redisAsyncSetDisconnectCallback(ac, disconnect_cb);
  ac_ = ac;
  connect_started_ms_ = mono_ms();
}

void RedisSessionStore::drop_connection(std::string_view why) {
  redisAsyncContext* ac = ac_;
  ac_ = nullptr;
  connected_ = false;
  sent_at_ms_.clear();
  mark_down(why);
  // Not redisAsyncDisconnect: that one waits for the replies a hung server will never send.
  // redisAsyncFree answers pending requests with null replies right away.
  dropping_ = true;
  redisAsyncFree(ac);
  dropping_ = false;
  schedule_reconnect();
}

void RedisSessionStore::schedule_reconnect() {
  if (destroying_) return;
  uv_timer_start(reconnect_timer_, [](uv_timer_t* t) { static_cast<RedisSessionStore*>(t->data)->connect(); },
                 static_cast<uint64_t>(backoff_ms_), 0);
  backoff_ms_ = std::min(backoff_ms_ * 2, opts_.reconnect_max_ms);
}

void RedisSessionStore::connect_cb(const redisAsyncContext* ac, int status) {
  static_cast<RedisSessionStore*>(ac->data)->on_connected(status);
}

void RedisSessionStore::disconnect_cb(const redisAsyncContext* ac, int) {
  static_cast<RedisSessionStore*>(ac->data)->on_disconnected();
}

void RedisSessionStore::on_connected(int status) {
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback returns.
    ac_ = nullptr;
    connected_ = false;
    sent_at_ms_.clear();
    mark_down("connect failed");
    schedule_reconnect();
    return;
  }
  if (!opts_.password.empty()) {
    authenticate();
    return;
  }
  on_up();
}

void RedisSessionStore::authenticate() {
  std::vector<std::string> argv = {"AUTH"};
  if (!opts_.username.empty()) argv.push_back(opts_.username);
  argv.push_back(opts_.password);
  bool sent = send(std::move(argv), [this](redisReply* r) {
    // No reply: the connection is going away (the disconnect callback or a drop handles it).
    if (!r || destroying_ || !ac_) return;
    if (r->type == REDIS_REPLY_STATUS) {
      on_up();
      return;
    }
    // WRONGPASS, or NOAUTH/ERR from a server without a password: our configuration is wrong, not
    // the network. The next connect (with backoff) tries again, e.g. after the ACL is fixed.
    std::string why = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "unexpected reply";
    mark_down("AUTH refused: " + why, Link::AuthRefused);
    redisAsyncDisconnect(ac_);
  });
  // Not dropped here, inside hiredis's connect callback: the watchdog's connect timeout does it.
  if (!sent) mark_down("AUTH could not be sent");
}

void RedisSessionStore::on_up() {
  connected_ = true;
  set_link(Link::Up);
  backoff_ms_ = opts_.reconnect_min_ms;
  if (!was_up_) log("redis " + opts_.host + ":" + std::to_string(opts_.port) + " is back");
  was_up_ = true;
}

void RedisSessionStore::on_disconnected() {
  if (destroying_ || dropping_) return;
  // hiredis frees the context after this callback returns; pending replies were already answered.
  ac_ = nullptr;
  connected_ = false;
  sent_at_ms_.clear();
  // The close that follows a refused AUTH keeps that reason on /healthz.
  mark_down("connection lost", link_ == Link::AuthRefused ? Link::AuthRefused : Link::Down);
  schedule_reconnect();
}

void RedisSessionStore::mark_down(std::string_view why, Link link) {
  set_link(link);
  if (!was_up_) return;
  was_up_ = false;
  log("redis " + opts_.host + ":" + std::to_string(opts_.port) + " unavailable (" + std::string(why) +
      "), policy " + (opts_.when_down == WhenRedisDown::FailOpen ? "fail-open" : "fail-closed"));
}

void RedisSessionStore::watchdog() {
  if (!ac_) return;
  int64_t now = mono_ms();
  // hiredis's libuv adapter drops poll errors, so a refused connect is never reported: a connect
  // that has not completed in time is abandoned here instead.
  if (!connected_ && now - connect_started_ms_ >= opts_.command_timeout_ms) drop_connection("connect timeout");
  else if (!sent_at_ms_.empty() && now - sent_at_ms_.front() >= opts_.command_timeout_ms) drop_connection("reply timeout");
}

void RedisSessionStore::reply_cb(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(privdata));
  if (!p->self->sent_at_ms_.empty()) p->self->sent_at_ms_.pop_front();
  p->on_reply(static_cast<redisReply*>(reply));
}

bool RedisSessionStore::send(std::vector<std::string> argv, ReplyFn on_reply) {
  if (!ac_) return false;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* p = new Pending{this, std::move(on_reply)};
  if (redisAsyncCommandArgv(ac_, reply_cb, p, static_cast<int>(argv.size()), ptrs.data(), lens.data()) != REDIS_OK) {
    delete p;
    return false;
  }
  sent_at_ms_.push_back(mono_ms());
  return true;
}

void RedisSessionStore::run_script(const char* script, const std::string& sha,
                                   std::vector<std::string> args, ReplyFn on_reply) {
  std::vector<std::string> argv = {"EVALSHA", sha};
  argv.insert(argv.end(), args.begin(), args.end());
  auto retry = [this, script, args = std::move(args), on_reply](redisReply* r) mutable {
    if (r && r->type == REDIS_REPLY_ERROR && std::strncmp(r->str, "NOSCRIPT", 8) == 0) {
      std::vector<std::string> eval = {"EVAL", script};
      eval.insert(eval.end(), args.begin(), args.end());
      if (!send(std::move(eval), on_reply)) on_reply(nullptr);
      return;
    }
    on_reply(r);
  };
  if (!send(std::move(argv), std::move(retry))) on_reply(nullptr);
}

std::string RedisSessionStore::live_key(const std::string& sub) const {
  // The viewer's hash, not the raw sub: bounded key length and no '{' '}' from tokens in key names.
  return opts_.key_prefix + "{" + base64url_encode(ossl::sha256_digest(sub)).substr(0, 22) + "}:live";
}

std::string RedisSessionStore::evicted_key(const std::string& sub) const {
  return opts_.key_prefix + "{" + base64url_encode(ossl::sha256_digest(sub)).substr(0, 22) + "}:evicted";
}

void RedisSessionStore::fallback_admit(const SessionKey& key, int limit, bool block_new,
                                       int64_t now_ms, const std::function<void(Admit)>& done) {
  if (opts_.when_down == WhenRedisDown::FailClosed) done(Admit::Unavailable);
  else done(fallback_.admit_sync(key, limit, block_new, now_ms));
}

void RedisSessionStore::admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
                              std::function<void(Admit)> done) {
  if (renewals_->fresh(key, now_ms, opts_.renew_interval_ms)) {
    done(Admit::Allowed);
    return;
  }
  if (!connected_) {
    fallback_admit(key, limit, block_new, now_ms, done);
    return;
  }
  std::vector<std::string> args = {"2", live_key(key.sub), evicted_key(key.sub), key.sid,
                                   std::to_string(limit), block_new ? "1" : "0", std::to_string(now_ms),
                                   std::to_string(opts_.rules.lease_ms),
                                   std::to_string(opts_.rules.evicted_memory_ms), key.place,
                                   opts_.rules.sid_elsewhere == SidElsewhere::Refuse ? "1" : "0"};
  run_script(redis_scripts::kAdmit, admit_sha_, std::move(args),
             [this, key, limit, block_new, now_ms, done = std::move(done)](redisReply* r) {
               if (!r || r->type != REDIS_REPLY_INTEGER) {
                 if (r && r->type == REDIS_REPLY_ERROR) log(std::string("admit script error: ") + r->str);
                 fallback_admit(key, limit, block_new, now_ms, done);
                 return;
               }
               Admit a = admit_of(r->integer);
               if (a == Admit::Allowed || a == Admit::AllowedNewPlace) {
                 // This admission may have evicted the viewer's other streams; those served by this
                 // process must ask Redis again rather than answer Allowed from the cache.
                 if (limit > 0 && !block_new) renewals_->forget_viewer(key.sub);
                 renewals_->confirmed(key, now_ms);
               } else {
                 renewals_->forget(key);
               }
               done(a);
             });
}

void RedisSessionStore::list(const std::string& sub, std::function<void(std::vector<SessionInfo>)> done) {
  if (!connected_) {
    fallback_.list(sub, std::move(done));
    return;
  }
  run_script(redis_scripts::kList, list_sha_,
             {"1", live_key(sub), std::to_string(opts_.clock()), std::to_string(opts_.rules.lease_ms)},
             [this, sub, done = std::move(done)](redisReply* r) {
               if (!r || r->type != REDIS_REPLY_ARRAY) {
                 fallback_.list(sub, done);
                 return;
               }
               std::vector<SessionInfo> out;
               auto str = [&](size_t k) {
                 const redisReply* e = r->element[k];
                 return e->type == REDIS_REPLY_STRING ? std::string_view(e->str, e->len) : std::string_view();
               };
               for (size_t i = 0; i + 2 < r->elements; i += 3) {
                 auto started = parse_int(str(i + 1)), renewed = parse_int(str(i + 2));
                 std::string_view id = str(i);
                 size_t nl = id.rfind('\n');
                 if (!started || !renewed || nl == std::string_view::npos) continue;  // not this format
                 out.push_back(SessionInfo{sub, std::string(id.substr(0, nl)), std::string(id.substr(nl + 1)),
                                           *started, *renewed});
               }
               done(std::move(out));
             });
}

void RedisSessionStore::kick(const SessionKey& key, std::function<void(bool)> done) {
  renewals_->forget_sid(key.sub, key.sid);
  if (!connected_) {
    fallback_.kick(key, std::move(done));
    return;
  }
  run_script(redis_scripts::kKick, kick_sha_,
             {"2", live_key(key.sub), evicted_key(key.sub), key.sid, std::to_string(opts_.clock()),
              std::to_string(opts_.rules.evicted_memory_ms)},
             [this, key, done = std::move(done)](redisReply* r) {
               if (!r || r->type != REDIS_REPLY_INTEGER) {
                 fallback_.kick(key, done);
                 return;
               }
               done(r->integer == 1);
             });
}

}  // namespace cdn::auth
