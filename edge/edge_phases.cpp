#include "edge/edge_phases.h"

#include "common/auth/address.h"
#include "common/auth/extract.h"
#include "common/auth/jwks.h"
#include "common/auth/renew.h"
#include "common/auth/signing_key.h"
#include "common/hls/mpd_rewrite.h"
#include "common/hls/rewrite.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/proxy/forward_request.h"
#include "common/proxy/service_metrics.h"
#include "common/runtime/program.h"
#include "common/util/clock.h"
#include "common/util/strings.h"
#include "edge/public_prefixes.h"
#include "edge/session_admin.h"

namespace cdn::edge {

namespace {

obs::Counter& rejections(const std::string& reason, std::string_view service_label) {
  return obs::metrics().counter("cdn_token_rejections_total",
                                "Requests refused by the access gate, by reason",
                                proxy::with_service({{"reason", reason}}, service_label));
}

obs::Counter& sid_moved() {
  static obs::Counter& c = obs::metrics().counter(
      "cdn_stream_sid_moved_total",
      "Stream sessions started with a sid already live at another place (sid_elsewhere: new-stream)", {});
  return c;
}

// RFC 9246 §2.1.14: cdnistt 1 = HTTP cookie, 2 = query string. Absent: cookie.
int64_t transport_of(const auth::Claims& c) { return c.cdnistt.value_or(1); }

}  // namespace

EdgePhases::EdgePhases(std::string token_param) : token_param_(std::move(token_param)), cors_({}) {}

EdgePhases::EdgePhases(AccessConfig cfg, std::string token_param, size_t worker_count,
                       std::shared_ptr<Sessions> shared)
    : cfg_(std::move(cfg)), token_param_(std::move(token_param)), cors_(cfg_.cors_origins) {
  if (cfg_.enabled)
    sessions_ = shared ? std::move(shared) : std::make_shared<Sessions>(cfg_, worker_count);
}

EdgePhases::~EdgePhases() = default;

Result<std::unique_ptr<EdgePhases>> EdgePhases::create(AccessConfig cfg,
                                                       std::string default_token_param,
                                                       size_t worker_count,
                                                       std::shared_ptr<Sessions> shared_sessions) {
  std::string param = cfg.token_param.empty() ? std::move(default_token_param) : cfg.token_param;
  std::unique_ptr<EdgePhases> p(
      new EdgePhases(std::move(cfg), std::move(param), worker_count, std::move(shared_sessions)));
  if (!p->cfg_.enabled) return p;
  auto keys = auth::load_jwks(p->cfg_.jwks);
  if (!keys) return make_error("access.jwks: " + keys.error().message);
  auth::VerifyPolicy policy;
  policy.issuer = p->cfg_.issuer;
  policy.audience = p->cfg_.audience;
  policy.leeway_s = p->cfg_.leeway_ms / 1000;
  policy.max_token_bytes = p->cfg_.max_token_bytes;
  policy.address_prefix_v4 = p->cfg_.address_prefix_v4;
  policy.address_prefix_v6 = p->cfg_.address_prefix_v6;
  p->verifier_ = std::make_unique<auth::Verifier>(std::make_shared<const auth::KeySet>(std::move(keys.value())),
                                                  policy, p->cfg_.verified_cache);
  if (!p->cfg_.renewal_key.empty()) {
    auto k = auth::load_signing_key(p->cfg_.renewal_key);
    if (!k) return make_error("access.renewal_key: " + k.error().message);
    p->renewal_key_.store(k.value());
  }
  return p;
}

void EdgePhases::start(runtime::Program& p, bool admin_routes, ServiceOfToken service_of_token) {
  if (!sessions_) return;
  if (admin_routes) {
    add_session_admin_routes(p.admin(), sessions_, std::move(service_of_token));
    p.add_health_field("stream_sessions",
                       [s = sessions_] { return uint64_t(s->active_now(unix_now_ms())); });
  }
  if (const auth::RedisHealth* h = admin_routes ? sessions_->redis_health() : nullptr) {
    // The fields keep the sessions (which own `h`) for the process's life.
    p.add_health_field("session_store_down", [h, s = sessions_] {
      return uint64_t(h->down.load(std::memory_order_relaxed));
    });
    p.add_health_field("session_store_auth_refused", [h, s = sessions_] {
      return uint64_t(h->auth_refused.load(std::memory_order_relaxed));
    });
  }
  std::vector<net::Worker*> workers;
  for (size_t i = 0; i < p.worker_count(); ++i) workers.push_back(&p.worker(i));
  workers.push_back(&p.admin_worker());  // /admin/sessions reads the shared store from there
  sessions_->connect_early(std::move(workers));
}

bool EdgePhases::find_token(const http::Request& req, std::string& token, TokenSource& source) const {
  // One source at a time, so the response knows how the token travelled (propagation, renewal).
  if (auto t = auth::extract_token(req.query, {}, {}, token_param_)) {
    token = std::move(*t);
    source = TokenSource::Query;
    return true;
  }
  if (auto t = auth::extract_token({}, req.headers.get_or("cookie"), {}, cfg_.cookie)) {
    token = std::move(*t);
    source = TokenSource::Cookie;
    return true;
  }
  if (auto t = auth::extract_token({}, {}, req.headers.get_or("authorization"), token_param_)) {
    token = std::move(*t);
    source = TokenSource::Bearer;
    return true;
  }
  return false;
}

proxy::Phases::Filter EdgePhases::request_filter(const std::shared_ptr<http::Exchange>& ex,
                                                 AccessState& st, std::function<void()> resume) {
  const auto& req = ex->request();
  // Only a CORS preflight is the edge's to answer; any other OPTIONS goes to the origin.
  if (req.method == "OPTIONS" && cors_.enabled() &&
      req.headers.get("access-control-request-method")) {
    ex->respond(204, cors_.preflight(req, proxy::allowed_methods(req.path, method_rules_)),
                std::string_view());
    return Filter::Handled;
  }
  if (!verifier_ || under_public_prefix(req.path, cfg_.public_prefixes)) return Filter::Continue;

  Viewer v;
  if (!find_token(req, v.token, v.source)) {
    reject(ex, 401, "token-required", "");
    return Filter::Handled;
  }
  // The token's scope covers the request as the cache and the shield see it (token removed).
  std::string uri = st.upstream_query.empty() ? req.path : req.path + "?" + st.upstream_query;
  auth::TokenRequest rc{uri, ex->client_ip(), unix_now()};
  auto r = verifier_->verify(v.token, rc);
  if (!r && v.source == TokenSource::Query && r.rejection().reason == "expired") {
    // A playlist rewritten earlier may carry a token that has since expired while the viewer
    // holds a renewed one in the cookie (cdnistt 1): the renewed token wins.
    if (auto c = auth::extract_token({}, req.headers.get_or("cookie"), {}, cfg_.cookie)) {
      auto rc2 = verifier_->verify(*c, rc);
      if (rc2) {
        v.token = std::move(*c);
        v.source = TokenSource::Cookie;
        r = std::move(rc2);
      }
    }
  }
  if (!r) {
    reject(ex, 403, r.rejection().reason, r.rejection().detail);
    return Filter::Handled;
  }
  v.claims = std::move(r.claims());
  Viewer& viewer = st.viewer.emplace(std::move(v));
  if (viewer.claims.sub.empty()) return Filter::Continue;  // no viewer, no stream session

  int64_t now_ms = unix_now_ms();
  sessions_->maybe_sweep(now_ms);
  auth::SessionKey key{
      session_scope_ + viewer.claims.sub, viewer.claims.sid,
      auth::address_place(ex->client_ip(), cfg_.address_prefix_v4, cfg_.address_prefix_v6)};
  viewer.place = key.place;
  int limit = int(std::min<int64_t>(viewer.claims.climit, 1 << 20));
  bool block_new = viewer.claims.cbeh == auth::LimitBehaviour::BlockNew;
  // The memory store answers inside admit(); the Redis store later, on this same loop thread.
  auto answered_inline = std::make_shared<std::optional<auth::Admit>>();
  auto in_call = std::make_shared<bool>(true);
  std::weak_ptr<http::Exchange> weak = ex;
  sessions_->store_for(*ex->worker())
      .admit(key, limit, block_new, now_ms,
             [this, weak, key, resume, answered_inline, in_call](auth::Admit a) {
               if (*in_call) {
                 *answered_inline = a;
                 return;
               }
               auto e = weak.lock();
               if (!e || !e->alive() || e->started()) return;
               if (admitted(e, key, a) == Filter::Continue) resume();
             });
  *in_call = false;
  if (*answered_inline) return admitted(ex, key, **answered_inline);
  return Filter::Suspended;
}

proxy::Phases::Filter EdgePhases::admitted(const std::shared_ptr<http::Exchange>& ex,
                                           const auth::SessionKey& key, auth::Admit a) {
  switch (a) {
    case auth::Admit::AllowedNewPlace:
      sid_moved().inc();
      [[fallthrough]];
    case auth::Admit::Allowed:
      sessions_->served(key, unix_now_ms());
      return Filter::Continue;
    case auth::Admit::InUseElsewhere: reject(ex, 403, "sid-in-use-elsewhere", ""); break;
    case auth::Admit::Evicted: reject(ex, 403, "stream-evicted", ""); break;
    case auth::Admit::LimitReached: reject(ex, 403, "stream-limit-reached", ""); break;
    case auth::Admit::Unavailable: reject(ex, 503, "session-store-unavailable", ""); break;
  }
  return Filter::Handled;
}

void EdgePhases::reject(const std::shared_ptr<http::Exchange>& ex, int status, const std::string& reason,
                        std::string_view detail) {
  rejections(reason, service_label_).inc();
  ex->log.reason = reason;
  if (obs::log_enabled(obs::Level::Debug))
    obs::log(obs::Level::Debug, "access refused",
             {{"reason", reason}, {"detail", std::string(detail)}, {"client", ex->client_ip()},
              {"path", ex->request().path}});
  http::Headers h{{"X-Token-Rejection", reason}, {"Cache-Control", "no-store"}};
  if (status == 401) h.add("WWW-Authenticate", "Bearer");
  cors_.add_headers(ex->request(), h);
  ex->respond_error(status, reason, std::move(h));
}

std::string EdgePhases::upstream_query(const http::Request& req) {
  if (req.query.empty()) return {};
  return auth::strip_param(req.query, token_param_);
}

void EdgePhases::strip_consumed_fields(const http::Request& req, http::Headers& fields) {
  // The token cookie is the edge's own, with or without the access gate.
  if (req.headers.get("cookie")) {
    std::string rest;
    for (const auto& h : req.headers)
      if (iequals(h.name, "cookie")) {
        std::string kept = proxy::without_cookie(h.value, cfg_.cookie);
        if (!kept.empty()) rest += (rest.empty() ? "" : "; ") + kept;
      }
    fields.remove("cookie");
    if (!rest.empty()) fields.add("Cookie", std::move(rest));
  }
  // With the gate on, a bearer token is the viewer token; any other Authorization is the
  // origin's business and goes on (RFC 9111 §3.5 then decides what may be stored).
  std::string_view auth = req.headers.get_or("authorization");
  if (verifier_ && auth.size() > 7 && iequals(auth.substr(0, 7), "bearer "))
    fields.remove("authorization");
}

const std::string& EdgePhases::renewed_token(Viewer& v) const {
  if (v.renewal_tried) return v.renewed;
  v.renewal_tried = true;
  if (!v.claims.cdniets) return v.renewed;
  auto key = renewal_key_.load();
  if (!key) return v.renewed;
  auto t = auth::renew(v.claims, *key, unix_now());
  if (t) {
    v.renewed = std::move(t.value());
  } else {
    obs::log(obs::Level::Error, "token renewal failed", {{"error", t.error().message}});
  }
  return v.renewed;
}

proxy::Phases::Body EdgePhases::response_filter(const http::Exchange& ex, AccessState& st,
                                                http::Headers& h, bool body_transformable) {
  cors_.add_headers(ex.request(), h);
  if (!st.viewer) return Body::AsIs;
  Viewer& v = *st.viewer;
  if (transport_of(v.claims) == 1) {
    const std::string& renewed = renewed_token(v);
    if (!renewed.empty()) {
      std::string cookie = cfg_.cookie + "=" + renewed +
                           "; Path=/; Max-Age=" + std::to_string(*v.claims.cdniets) + "; HttpOnly";
      cookie += ex.tls() ? "; Secure; SameSite=None" : "; SameSite=Lax";
      h.add("Set-Cookie", std::move(cookie));
    }
  }
  if (!body_transformable || !is_playlist(ex, h) || !rewrites_playlist(v)) return Body::AsIs;
  if (ex.request().method != "HEAD") {
    // The rewritten playlist carries this viewer's token: no shared cache may keep it.
    std::string cc(h.get_or("cache-control"));
    std::string out = "private";
    for (auto part : split(cc, ',')) {
      auto d = trim(part);
      if (d.empty() || iequals(d, "public") || iequals(d, "private")) continue;
      out += ", ";
      out += d;
    }
    h.set("Cache-Control", out);
  }
  return Body::Transform;
}

bool EdgePhases::is_playlist(const http::Exchange& ex, const http::Headers& h) const {
  std::string_view ct = h.get_or("content-type");
  ct = trim(ct.substr(0, ct.find(';')));
  if (iequals(ct, "application/vnd.apple.mpegurl") || iequals(ct, "application/x-mpegurl") ||
      iequals(ct, "audio/mpegurl") || iequals(ct, "audio/x-mpegurl") ||
      iequals(ct, "application/dash+xml"))
    return true;
  std::string_view p = ex.request().path;
  return (p.size() >= 5 && iequals(p.substr(p.size() - 5), ".m3u8")) ||
         (p.size() >= 4 && iequals(p.substr(p.size() - 4), ".mpd"));
}

bool EdgePhases::rewrites_playlist(Viewer& v) const {
  if (v.source == TokenSource::Query) return true;
  return transport_of(v.claims) == 2 && !renewed_token(v).empty();
}

std::string EdgePhases::propagated_token(Viewer& v) const {
  if (transport_of(v.claims) == 2) {
    const std::string& renewed = renewed_token(v);
    if (!renewed.empty()) return renewed;
  }
  // Players do not carry a playlist's query to the URIs inside it: without the token there,
  // the next request would be refused.
  if (v.source == TokenSource::Query) return v.token;
  return {};
}

std::string EdgePhases::transform_body(const http::Exchange& ex, AccessState& st,
                                       std::string body) {
  (void)ex;
  if (!st.viewer) return body;
  std::string token = propagated_token(*st.viewer);
  if (token.empty()) return body;
  std::string q = token_param_ + "=" + percent_encode(token);
  // Told apart by their bytes: a DASH manifest is XML, a playlist starts with #EXTM3U.
  return hls::looks_like_xml(body) ? hls::rewrite_mpd_uris(body, q) : hls::rewrite_uris(body, q);
}

}  // namespace cdn::edge
