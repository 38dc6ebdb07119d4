#include "edge/access_config.h"

#include "common/auth/jwks.h"
#include "common/config/reader.h"
#include "common/auth/signing_key.h"
#include "edge/public_prefixes.h"

namespace cdn::edge {

namespace {

void read_redis(config::MapReader& m, AccessConfig& out) {
  config::set(out.redis, m.get_host_port("address"));
  config::set(out.redis_username, m.get_string("username", false));
  config::set(out.redis_password, m.get_string("password", false));
  if (!out.redis_username.empty() && out.redis_password.empty())
    m.error("username", "an ACL user needs its password");
  config::set(out.redis_key_prefix, m.get_string("key_prefix", false));
  config::set(out.redis_renew_interval_ms, m.get_duration_ms("renew_interval", 100, 3'600'000));
  config::set(out.redis_command_timeout_ms, m.get_duration_ms("command_timeout", 50, 60'000));
  if (auto w = m.get_enum("when_down", {"fail-open", "fail-closed"}))
    out.when_down = *w == "fail-open" ? auth::WhenRedisDown::FailOpen : auth::WhenRedisDown::FailClosed;
  m.finish();
}

void read_sessions(config::MapReader& m, AccessConfig& out) {
  if (auto s = m.get_enum("store", {"memory", "redis"}))
    out.store = *s == "redis" ? AccessConfig::Store::Redis : AccessConfig::Store::Memory;
  config::set(out.lease_ms, m.get_duration_ms("lease", 1000, 24 * 3'600'000LL));
  config::set(out.evicted_memory_ms, m.get_duration_ms("evicted_memory", 1000, 7 * 24 * 3'600'000LL));
  if (auto v = m.get_int("address_prefix_v4", 0, 32)) out.address_prefix_v4 = int(*v);
  if (auto v = m.get_int("address_prefix_v6", 0, 128)) out.address_prefix_v6 = int(*v);
  if (auto e = m.get_enum("sid_elsewhere", {"new-stream", "refuse"}))
    out.sid_elsewhere = *e == "refuse" ? auth::SidElsewhere::Refuse : auth::SidElsewhere::NewStream;
  bool has_redis = m.has("redis");
  if (auto r = m.get_map("redis")) read_redis(*r, out);
  if (has_redis && out.store != AccessConfig::Store::Redis)
    m.error("redis", "only used with store: redis");
  m.finish();
}

}  // namespace

void read_access_section(config::MapReader& root, AccessConfig& out) {
  if (!root.has("access")) return;
  auto m = root.get_map("access");
  if (!m) return;
  out.present = true;
  out.enabled = true;
  config::set(out.enabled, m->get_bool("enabled"));
  config::set(out.jwks, m->get_string("jwks", false));
  config::set(out.issuer, m->get_string("issuer"));
  config::set(out.audience, m->get_string("audience"));
  config::set(out.leeway_ms, m->get_duration_ms("leeway", 0, 600'000));
  config::set(out.max_token_bytes, m->get_size("max_token_bytes", 256, 65536));
  if (auto v = m->get_int("verified_cache", 0, 10'000'000)) out.verified_cache = uint64_t(*v);
  config::set(out.token_param, m->get_string("token_param", false));
  config::set(out.cookie, m->get_string("cookie", false));
  if (m->has("protected_prefixes")) {
    m->skip("protected_prefixes");
    m->error("protected_prefixes",
             "replaced by public_prefixes: with access on, every path needs a token except those "
             "listed in access.public_prefixes");
  }
  if (auto p = m->get_string_list("public_prefixes")) {
    for (auto& s : *p)
      if (!valid_public_prefix(s)) m->error("public_prefixes", "not a normalized path prefix: \"" + s + "\"");
    out.public_prefixes = std::move(*p);
  }
  config::set(out.renewal_key, m->get_string("renewal_key", false));
  if (auto s = m->get_map("sessions")) read_sessions(*s, out);
  config::set(out.cors_origins, m->get_string_list("cors_origins"));

  if (out.enabled && out.jwks.empty()) m->error("jwks", "access.enabled needs a jwks file");
  if (!out.jwks.empty()) {
    auto keys = auth::load_jwks(out.jwks);
    if (!keys) m->error("jwks", keys.error().message);
    else if (keys->empty()) m->error("jwks", "no keys in " + out.jwks);
  }
  if (!out.renewal_key.empty()) {
    if (auto k = auth::load_signing_key(out.renewal_key); !k) m->error("renewal_key", k.error().message);
  }
  m->finish();
}

}  // namespace cdn::edge
