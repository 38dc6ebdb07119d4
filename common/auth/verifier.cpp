#include "common/auth/verifier.h"

#include <algorithm>

#include "common/auth/address.h"
#include "common/auth/base64url.h"
#include "common/auth/json.h"
#include "common/auth/jws.h"
#include "common/auth/ossl.h"
#include "common/auth/saturating.h"
#include "common/util/strings.h"

namespace cdn::auth {
namespace {

// Without exp (require_exp = false) a cached entry still ages out: a key reload is not the only
// way a token should stop being trusted.
constexpr int64_t kMaxCacheTtlS = 300;

Rejection reject(std::string reason, std::string detail) {
  return Rejection{std::move(reason), std::move(detail)};
}

}  // namespace

Verifier::Verifier(std::shared_ptr<const KeySet> keys, VerifyPolicy policy, size_t cache_entries)
    : policy_(std::move(policy)),
      state_(std::make_shared<const KeyState>(KeyState{std::move(keys), 0})),
      cache_(cache_entries ? std::make_unique<TokenCache>(cache_entries) : nullptr) {}

void Verifier::set_keys(std::shared_ptr<const KeySet> keys) {
  state_.store(std::make_shared<const KeyState>(KeyState{std::move(keys), next_generation_++}));
}

std::shared_ptr<const KeySet> Verifier::keys() const { return state_.load()->keys; }

std::variant<std::shared_ptr<const Claims>, Rejection> Verifier::authenticate(
    std::string_view token, const std::string& digest, const KeyState& state, int64_t now_s) const {
  CompactParts parts;
  if (!split_compact(token, parts)) return reject("malformed", "not a three-part compact JWS");

  auto header_json = base64url_decode(parts.header);
  if (!header_json) return reject("bad-base64", "header");
  auto header = json::parse(*header_json, json::Limits{1024, 4});
  if (!header || !header->as_object()) return reject("malformed", "header is not a JSON object");
  const json::Value* alg_v = header->find("alg");
  const std::string* alg_name_p = alg_v ? alg_v->as_string() : nullptr;
  if (!alg_name_p) return reject("malformed", "header has no alg");
  if (iequals(*alg_name_p, "none")) return reject("alg-none", "unsigned token");
  // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
  if (header->find("crit")) return reject("malformed", "crit header not supported");
  auto signature = base64url_decode(parts.signature);
  if (!signature) return reject("bad-base64", "signature");
  if (signature->empty()) return reject("bad-signature", "empty signature");
  auto payload = base64url_decode(parts.payload);
  if (!payload) return reject("bad-base64", "payload");

  // The key is chosen by kid only; the header's alg must then equal the algorithm the key is bound
  // to. Never the other way round (RFC 8725 §2.1: HS256 "signed" with a public key).
  std::optional<Alg> alg = alg_from_name(*alg_name_p);
  const KeySet& keys = *state.keys;
  const Key* key = nullptr;
  if (const json::Value* kid_v = header->find("kid")) {
    const std::string* kid = kid_v->as_string();
    if (!kid) return reject("malformed", "kid is not a string");
    key = keys.find(*kid);
    if (!key) return reject("unknown-kid", "no key " + *kid);
    if (!alg || key->alg() != *alg)
      return reject("alg-mismatch", "key " + *kid + " is " + std::string(alg_name(key->alg())) +
                                        ", token says " + *alg_name_p);
    if (!key->verify(parts.signing_input, *signature)) return reject("bad-signature", "key " + *kid);
  } else {
    // No kid: try each key bound to the header's algorithm (bounded by the key-set size).
    bool any = false;
    for (const Key& k : keys.keys()) {
      if (!alg || k.alg() != *alg) continue;
      any = true;
      if (k.verify(parts.signing_input, *signature)) {
        key = &k;
        break;
      }
    }
    if (!any) return reject("unknown-kid", "no kid and no key for " + *alg_name_p);
    if (!key) return reject("bad-signature", "no key for " + *alg_name_p + " matches");
  }

  auto claims = parse_claims(*payload);
  if (!claims) return reject("malformed", "claims: " + claims.error().message);
  if (!claims->exp && policy_.require_exp) return reject("malformed", "no exp claim");
  auto shared = std::make_shared<const Claims>(std::move(*claims));
  if (cache_) {
    int64_t until = saturating_add(now_s, kMaxCacheTtlS);
    if (shared->exp) until = std::min(until, saturating_add(saturating_add(*shared->exp, policy_.leeway_s), 1));
    if (until > now_s) cache_->put(digest, state.generation, until, shared);
  }
  return shared;
}

std::optional<Rejection> Verifier::check(const Claims& c, const TokenRequest& req) const {
  if (c.exp && req.now_s > saturating_add(*c.exp, policy_.leeway_s))
    return reject("expired", "exp " + std::to_string(*c.exp));
  if (c.nbf && req.now_s < saturating_sub(*c.nbf, policy_.leeway_s))
    return reject("not-yet-valid", "nbf " + std::to_string(*c.nbf));
  if (!policy_.issuer.empty() && c.iss != policy_.issuer) return reject("wrong-issuer", c.iss);
  if (!policy_.audience.empty() &&
      std::find(c.aud.begin(), c.aud.end(), policy_.audience) == c.aud.end())
    return reject("wrong-audience", "audience " + policy_.audience + " not in aud");
  if (!c.cip.empty() && !address_matches(c.cip, req.client_addr))
    return reject("client-address", std::string(req.client_addr) + " not in " + c.cip);
  if (!c.scope.allows(req.path)) return reject("scope", std::string(req.path));
  return std::nullopt;
}

VerifyResult Verifier::verify(std::string_view token, const TokenRequest& request) const {
  if (token.size() > policy_.max_token_bytes) return reject("too-large", std::to_string(token.size()));
  if (token.empty()) return reject("malformed", "empty token");
  std::shared_ptr<const KeyState> state = state_.load();
  if (!state->keys) return reject("unknown-kid", "no key set loaded");

  std::shared_ptr<const Claims> claims;
  std::string digest;
  if (cache_) {
    digest = ossl::sha256_digest(token);
    claims = cache_->get(digest, state->generation, request.now_s);
  }
  if (!claims) {
    auto auth = authenticate(token, digest, *state, request.now_s);
    if (auto* r = std::get_if<Rejection>(&auth)) return std::move(*r);
    claims = std::get<0>(std::move(auth));
  }
  if (auto r = check(*claims, request)) return std::move(*r);

  Claims out = *claims;
  if (out.sid.empty()) {
    // From the signed payload and the client's place, never the signature text: ECDSA's s -> n-s
    // gives a second valid token string for the same payload, which must be the same session.
    out.sid = derive_sid(out, address_place(request.client_addr, policy_.address_prefix_v4,
                                            policy_.address_prefix_v6));
    out.sid_derived = true;
  }
  return out;
}

}  // namespace cdn::auth
