#include "common/proxy/service_purge.h"

#include <openssl/crypto.h>

#include "common/proxy/proxy_program.h"
#include "common/proxy/service_router.h"
#include "common/util/strings.h"

namespace cdn::proxy {

Result<LocalPurge> ServicePurge::local_of(const PurgeSpec& spec) const {
  auto table = router_->table();
  // A node without services (a shield a scoped purge was forwarded to) has nothing to limit.
  const std::string& scope = table->implicit() ? std::string() : spec.service;
  const Service* scoped = table->by_name(scope);
  if (!scope.empty() && !scoped) return make_error("purge-unknown-service");
  LocalPurge p{spec.kind, {}, spec.soft, {}};
  if (spec.kind == PurgeKind::Key) {
    p.target = spec.value;
    if (scoped) p.within = scoped->core->key_prefix();
    return p;
  }
  ParsedUrl u;
  if (!parse_purge_url(spec.value, u)) return make_error("purge-bad-url");
  const Service* s = table->find(u.host);
  if (!s) return make_error("purge-unknown-host");
  if (!scope.empty() && s->name != scope) return make_error("purge-out-of-scope");
  if (spec.kind == PurgeKind::Url) {
    http::Request r;
    r.query = u.query;
    p.target = s->core->key_for(u.host, u.path, s->phases->upstream_query(r)).text;
  } else {
    p.target = s->core->key_prefix() + u.host + u.path;
  }
  p.within = s->core->key_prefix();
  return p;
}

size_t ServicePurge::purge(const LocalPurge& p) const {
  auto table = router_->table();
  const auto& all = table->services();
  // A URL, a prefix or a scoped key belongs to one service: its core stops that service's fills.
  const std::string& owned = p.kind == PurgeKind::Key ? p.within : p.target;
  for (const auto& s : all)
    if (const std::string& mine = s->core->key_prefix(); !mine.empty() && starts_with(owned, mine))
      return s->core->purge(p);
  if (p.kind != PurgeKind::Key || all.size() == 1) return all.front()->core->purge(p);
  // A key: the caches are shared, so the first core removes the objects; every core stops its
  // own fills that may carry the key.
  size_t n = all.front()->core->purge(p);
  for (size_t i = 1; i < all.size(); ++i) all[i]->core->stop_fills_tagged(p.target);
  return n;
}

std::string ServicePurge::service_of_token(std::string_view authorization) const {
  static constexpr std::string_view kPrefix = "Bearer ";
  if (!starts_with(authorization, kPrefix)) return {};
  std::string_view given = authorization.substr(kPrefix.size());
  auto table = router_->table();
  for (const auto& s : table->services()) {
    const std::string& t = s->admin_token;
    if (!t.empty() && t.size() == given.size() &&
        CRYPTO_memcmp(t.data(), given.data(), t.size()) == 0)
      return s->name;
  }
  return {};
}

}  // namespace cdn::proxy
