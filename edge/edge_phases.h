#pragma once
// The edge's own phases: the viewer access gate (signed token, stream session), token
// propagation into HLS playlists, RFC 9246 token renewal, and CORS. The viewer token never
// reaches the cache key or the shield.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "common/auth/claims.h"
#include "common/auth/key.h"
#include "common/auth/session_store.h"
#include "common/auth/verifier.h"
#include "common/obs/metrics.h"
#include "common/proxy/method_rules.h"
#include "common/proxy/phases.h"
#include "edge/access_config.h"
#include "edge/cors.h"
#include "edge/session_admin.h"
#include "edge/sessions.h"

namespace cdn::runtime {
class Program;
}

namespace cdn::edge {

enum class TokenSource { Query, Cookie, Bearer };

// A viewer whose token verified: what the rest of the request needs of it.
struct Viewer {
  TokenSource source = TokenSource::Query;
  std::string token;
  auth::Claims claims;
  std::string place;  // the client address cut to the configured prefix (the stream's place)
  bool renewal_tried = false;
  std::string renewed;  // empty = no renewal (not offered, no key, or signing failed)
};

// The edge's per-request phase context.
struct AccessState : proxy::RequestContext {
  std::optional<Viewer> viewer;  // set once the access gate verified the request's token
};

class EdgePhases : public proxy::PhasesFor<AccessState> {
 public:
  // Without an access section: only the token parameter is kept from the cache key and upstream.
  explicit EdgePhases(std::string token_param);
  // With `access:`; keys are loaded here (errors fail the start). `shared_sessions`: the stream
  // sessions of the process when another service's phases made them already (then this one's
  // sessions settings are not used).
  static Result<std::unique_ptr<EdgePhases>> create(AccessConfig cfg,
                                                    std::string default_token_param,
                                                    size_t worker_count,
                                                    std::shared_ptr<Sessions> shared_sessions = {});
  ~EdgePhases() override;

  Filter request_filter(const std::shared_ptr<http::Exchange>& ex, AccessState& st,
                        std::function<void()> resume) override;
  std::string upstream_query(const http::Request& req) override;
  // proxy.methods, for the methods a CORS preflight allows.
  void set_method_rules(std::vector<proxy::MethodRule> rules) { method_rules_ = std::move(rules); }
  void strip_consumed_fields(const http::Request& req, http::Headers& fields) override;
  Body response_filter(const http::Exchange& ex, AccessState& st, http::Headers& h,
                       bool body_transformable) override;
  std::string transform_body(const http::Exchange& ex, AccessState& st, std::string body) override;

  // Once the workers exist (before they run): per-worker session store setup; with
  // `admin_routes`, the session admin routes (edge/session_admin.h: scoped by the service whose
  // admin_token `service_of_token` finds) and /healthz fields too (one service has them).
  void start(runtime::Program& p, bool admin_routes = true, ServiceOfToken service_of_token = {});
  const std::shared_ptr<Sessions>& sessions() const { return sessions_; }
  // The delivery service: its metric label on cdn_token_rejections_total (empty: none), and its
  // name, which scopes its viewers' stream sessions ("<name>/<sub>" in the shared store), so two
  // content owners' subs never count against each other.
  void set_service(std::string_view name, std::string label) {
    session_scope_ = name.empty() ? std::string() : std::string(name) + "/";
    if (sessions_ && !name.empty()) sessions_->label_service(name, label);
    service_label_ = std::move(label);
  }

 private:
  EdgePhases(AccessConfig cfg, std::string token_param, size_t worker_count,
             std::shared_ptr<Sessions> shared);

  // Token from the query, the cookie, or Authorization: Bearer (first found), with its source.
  bool find_token(const http::Request& req, std::string& token, TokenSource& source) const;
  // Continue = admitted; Handled = refused (response sent).
  Filter admitted(const std::shared_ptr<http::Exchange>& ex, const auth::SessionKey& key,
                  auth::Admit a);
  void reject(const std::shared_ptr<http::Exchange>& ex, int status, const std::string& reason,
              std::string_view detail);
  // The renewed token for this request, signed once (RFC 9246 §2.1.13/14); empty if none.
  const std::string& renewed_token(Viewer& v) const;
  // An HLS playlist or a DASH manifest (by Content-Type, or by .m3u8 / .mpd on the path).
  bool is_playlist(const http::Exchange& ex, const http::Headers& h) const;
  // Whether this viewer's playlist carries a token into its URIs (then it is rewritten).
  bool rewrites_playlist(Viewer& v) const;
  // Token to append to a playlist's URIs for this viewer (empty = leave the playlist alone).
  std::string propagated_token(Viewer& v) const;

  AccessConfig cfg_;
  std::vector<proxy::MethodRule> method_rules_;
  std::string token_param_;
  std::string service_label_;
  std::string session_scope_;
  Cors cors_;
  std::unique_ptr<auth::Verifier> verifier_;
  std::atomic<std::shared_ptr<const auth::Key>> renewal_key_;
  std::shared_ptr<Sessions> sessions_;  // shared by every service's phases, across reloads
};

}  // namespace cdn::edge
