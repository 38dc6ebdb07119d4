#include "common/auth/redis_session_store.h"

#include <hiredis/hiredis.h>

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

// Clamped so a lease never lapses between two renewals in Redis.
int64_t renew_interval_of(const RedisStoreOptions& o) {
  return std::clamp<int64_t>(o.renew_interval_ms, 0, o.rules.lease_ms / 3);
}

}  // namespace

RedisSessionStore::RedisSessionStore(uv_loop_s* loop, RedisStoreOptions options)
    : opts_(std::move(options)),
      admit_sha_(sha1_hex(redis_scripts::kAdmit)),
      kick_sha_(sha1_hex(redis_scripts::kKick)),
      list_sha_(sha1_hex(redis_scripts::kList)),
      renewals_(opts_.renewals ? opts_.renewals : std::make_shared<RenewalCache>()),
      fallback_(opts_.rules, 1000000, opts_.clock) {
  opts_.renew_interval_ms = renew_interval_of(opts_);
  set_link(Link::Down);
  net::RedisConnectionOptions c;
  c.host = opts_.host;
  c.port = opts_.port;
  c.username = opts_.username;
  c.password = opts_.password;
  c.command_timeout_ms = opts_.command_timeout_ms;
  c.reconnect_min_ms = opts_.reconnect_min_ms;
  c.reconnect_max_ms = opts_.reconnect_max_ms;
  redis_ = std::make_unique<net::RedisConnection>(
      loop, std::move(c), [this] { on_up(); }, [this](std::string_view why) { on_down(why); });
}

bool RedisSessionStore::update(const RedisStoreOptions& next) {
  if (next.host != opts_.host || next.port != opts_.port || next.username != opts_.username ||
      next.password != opts_.password || next.command_timeout_ms != opts_.command_timeout_ms)
    return false;
  opts_.rules = next.rules;
  opts_.key_prefix = next.key_prefix;
  opts_.when_down = next.when_down;
  opts_.renew_interval_ms = renew_interval_of(next);
  fallback_.set_rules(next.rules);
  return true;
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
  redis_.reset();      // pending requests are answered now, by when_down
  set_link(Link::Up);  // a store that is gone is not down: it leaves the counts
}

void RedisSessionStore::log(std::string_view msg) const {
  if (opts_.log) opts_.log(msg);
  else std::fprintf(stderr, "session store: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void RedisSessionStore::on_up() {
  set_link(Link::Up);
  if (!was_up_) log("redis " + opts_.host + ":" + std::to_string(opts_.port) + " is back");
  was_up_ = true;
}

void RedisSessionStore::on_down(std::string_view why) {
  set_link(starts_with(why, "AUTH refused") ? Link::AuthRefused : Link::Down);
  if (!was_up_) return;
  was_up_ = false;
  log("redis " + opts_.host + ":" + std::to_string(opts_.port) + " unavailable (" + std::string(why) +
      "), policy " + (opts_.when_down == WhenRedisDown::FailOpen ? "fail-open" : "fail-closed"));
}

void RedisSessionStore::run_script(const char* script, const std::string& sha,
                                   std::vector<std::string> args, ReplyFn on_reply) {
  std::vector<std::string> argv = {"EVALSHA", sha};
  argv.insert(argv.end(), args.begin(), args.end());
  auto retry = [this, script, args = std::move(args), on_reply](redisReply* r) mutable {
    if (r && r->type == REDIS_REPLY_ERROR && std::strncmp(r->str, "NOSCRIPT", 8) == 0) {
      std::vector<std::string> eval = {"EVAL", script};
      eval.insert(eval.end(), args.begin(), args.end());
      if (!redis_->send(eval, on_reply)) on_reply(nullptr);
      return;
    }
    on_reply(r);
  };
  if (!redis_->send(argv, std::move(retry))) on_reply(nullptr);
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
  if (!connected()) {
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
  if (!connected()) {
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
  if (!connected()) {
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
