#pragma once
// The edge's `access:` config section: viewer tokens, stream sessions and CORS.
//
//   access:
//     enabled: true              # default true when the section is present; false = no token gate
//                                #   (CORS still applies). Without an `access:` section: no gate, no
//                                #   CORS, the token parameter is still stripped from what goes
//                                #   upstream and into the cache key.
//     jwks: /etc/cdn/keys.jwks   # required when enabled: verification keys (JWKS with public or
//                                #   private JWKs, each with a kid); reloaded on SIGHUP (a broken
//                                #   file keeps the old keys and logs an error)
//     issuer: "pay-per-view"     # required `iss`; empty (default) = not checked
//     audience: "cdn"            # required in `aud`; empty (default) = not checked
//     leeway: 30s                # clock skew allowed on exp / nbf (default 30s, at most 10m)
//     max_token_bytes: 4096      # longer tokens are refused `too-large` (default 4096)
//     verified_cache: 10000      # verified-token cache entries, 0 = off (default 10000)
//     token_param: token         # query parameter name (default: cache.token_param, "token");
//                                #   RFC 9246's URISigningPackage is always accepted too
//     cookie: cdn_token          # cookie name carrying the token (default cdn_token); renewed
//                                #   tokens with cdnistt 1 are set under this name
//     public_prefixes: ["/assets/"]  # request paths served without a token (default []: every
//                                #   path needs one). Matched on the normalized path at a segment
//                                #   boundary: "/assets" and "/assets/" both cover /assets/x, never
//                                #   /assetsx. `protected_prefixes` (the old opt-in list) is refused.
//     renewal_key: /etc/cdn/renew.jwk  # private JWK (or a JWKS whose first key is used) that
//                                #   signs renewed tokens (RFC 9246 cdniets/cdnistt); optional:
//                                #   without it no token is renewed. Its public half must be in
//                                #   `jwks` on every edge. Reloaded on SIGHUP.
//     sessions:                  # one store per process: the first service's settings with them;
//                                #   a reload applies them to new requests, except `store` (restart)
//       store: memory            # memory (default: in-process, one edge) | redis (fleet-wide)
//       lease: 30s               # a session not renewed for this long frees its slot (default 30s)
//       evicted_memory: 10m      # how long an evicted sid keeps getting stream-evicted (default 10m)
//       address_prefix_v4: 24    # a stream's place: the client address cut to this prefix
//       address_prefix_v6: 56    #   (defaults 24 and 56); a change of address family is another place
//       sid_elsewhere: new-stream  # the same sid from another place while its lease is live:
//                                #   new-stream (default: counts as another stream under climit) |
//                                #   refuse (403 sid-in-use-elsewhere)
//       redis:                   # only with store: redis
//         address: 127.0.0.1:6379
//         username: cdn-edge     # Redis 6 ACL user (optional; needs password)
//         password: "s3cret"     # AUTH after every connect (requirepass, or the ACL user's);
//                                #   refused: /healthz session_store_auth_refused, when_down applies
//         key_prefix: "cdn:sess:"
//         renew_interval: 10s    # a live lease is renewed in Redis at most this often (clamped to
//                                #   lease/3); an eviction made on another edge shows within it
//         command_timeout: 1s    # a Redis reply older than this drops the connection
//         when_down: fail-open   # fail-open (local per-edge limits until Redis is back) |
//                                #   fail-closed (503 session-store-unavailable)
//     cors_origins: ["*"]        # default ["*"]: any origin; when the token travels in a cookie the
//                                #   request Origin is echoed with Access-Control-Allow-Credentials.
//                                #   An explicit list echoes only listed origins (with credentials).
//                                #   [] = no CORS headers.
#include <cstdint>
#include <string>
#include <vector>

#include "common/auth/redis_session_store.h"
#include "common/config/parse_units.h"

namespace cdn::config {
class MapReader;
}

namespace cdn::edge {

struct AccessConfig {
  bool present = false;  // an `access:` section was given
  bool enabled = false;
  std::string jwks;
  std::string issuer, audience;
  int64_t leeway_ms = 30'000;
  uint64_t max_token_bytes = 4096;
  uint64_t verified_cache = 10'000;
  std::string token_param;  // empty = cache.token_param
  std::string cookie = "cdn_token";
  std::vector<std::string> public_prefixes;
  std::string renewal_key;

  enum class Store { Memory, Redis };
  Store store = Store::Memory;
  int64_t lease_ms = 30'000;
  int64_t evicted_memory_ms = 10 * 60 * 1000;
  int address_prefix_v4 = 24;
  int address_prefix_v6 = 56;
  auth::SidElsewhere sid_elsewhere = auth::SidElsewhere::NewStream;
  config::HostPort redis{"127.0.0.1", 6379};
  std::string redis_username, redis_password;  // AUTH; empty password = no AUTH
  std::string redis_key_prefix = "cdn:sess:";
  int64_t redis_renew_interval_ms = 10'000;
  int64_t redis_command_timeout_ms = 1'000;
  auth::WhenRedisDown when_down = auth::WhenRedisDown::FailOpen;

  std::vector<std::string> cors_origins{"*"};
};

// Reads `access:` from the root map (absent = defaults with present=false). Key files are loaded
// here once so that --check-config and the start fail on a bad one, naming file:line.
void read_access_section(config::MapReader& root, AccessConfig& out);

}  // namespace cdn::edge
