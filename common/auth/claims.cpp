#include "common/auth/claims.h"

#include "common/auth/address.h"
#include "common/auth/base64url.h"
#include "common/auth/json.h"
#include "common/auth/ossl.h"

namespace cdn::auth {
namespace {

constexpr size_t kMaxClaimString = 1024;

Result<void> get_string(const json::Value& doc, std::string_view name, std::string& out) {
  const json::Value* v = doc.find(name);
  if (!v) return {};
  const std::string* s = v->as_string();
  if (!s || s->size() > kMaxClaimString) return make_error(std::string(name) + " is not a string");
  out = *s;
  return {};
}

Result<void> get_int(const json::Value& doc, std::string_view name, std::optional<int64_t>& out) {
  const json::Value* v = doc.find(name);
  if (!v) return {};
  auto i = v->as_int();
  if (!i) return make_error(std::string(name) + " is not an integer");
  out = *i;
  return {};
}

Result<void> get_audience(const json::Value& doc, std::vector<std::string>& out) {
  const json::Value* v = doc.find("aud");
  if (!v) return {};
  if (const std::string* s = v->as_string()) {
    out.push_back(*s);
    return {};
  }
  const json::Array* arr = v->as_array();
  if (!arr || arr->size() > 32) return make_error("aud is not a string or array");
  for (const auto& a : *arr) {
    const std::string* s = a.as_string();
    if (!s) return make_error("aud array holds a non-string");
    out.push_back(*s);
  }
  return {};
}

}  // namespace

Result<Claims> parse_claims(std::string_view payload_json) {
  auto doc = json::parse(payload_json, json::Limits{8192, 8});
  if (!doc) return doc.error();
  if (!doc->as_object()) return make_error("payload is not an object");
  Claims c;
  std::optional<int64_t> climit;
  std::string cbeh;
  for (auto r : {get_string(*doc, "sub", c.sub), get_string(*doc, "sid", c.sid),
                 get_string(*doc, "jti", c.jti), get_string(*doc, "iss", c.iss),
                 get_string(*doc, "cdniuc", c.cdniuc), get_string(*doc, "path", c.path),
                 get_string(*doc, "cip", c.cip), get_string(*doc, "cbeh", cbeh),
                 get_int(*doc, "exp", c.exp), get_int(*doc, "nbf", c.nbf), get_int(*doc, "iat", c.iat),
                 get_int(*doc, "climit", climit), get_int(*doc, "cdniets", c.cdniets),
                 get_int(*doc, "cdnistt", c.cdnistt), get_audience(*doc, c.aud)}) {
    if (!r) return r.error();
  }
  if (climit) {
    if (*climit < 0 || *climit > 1000000) return make_error("climit out of range");
    c.climit = *climit;
  }
  if (cbeh == "BLOCK_NEW") c.cbeh = LimitBehaviour::BlockNew;
  else if (!cbeh.empty() && cbeh != "EVICT_OLDEST") return make_error("cbeh is not EVICT_OLDEST or BLOCK_NEW");
  if (c.cdniets && (*c.cdniets <= 0 || *c.cdniets > 365LL * 86400)) return make_error("cdniets out of range");
  if (c.cdnistt && *c.cdnistt != 1 && *c.cdnistt != 2) return make_error("cdnistt is not 1 or 2");
  if (!c.cip.empty() && !valid_address_spec(c.cip)) return make_error("cip is not an address or CIDR");
  auto scope = Scope::compile(c.cdniuc, c.path);
  if (!scope) return scope.error();
  c.scope = std::move(*scope);
  c.raw_payload = std::string(payload_json);
  return c;
}

std::string derive_sid(const Claims& claims, std::string_view place) {
  std::string input = claims.jti.empty() ? "payload\n" + claims.raw_payload : "jti\n" + claims.jti;
  input += '\n';
  input.append(place);
  return base64url_encode(ossl::sha256_digest(input)).substr(0, 22);
}

}  // namespace cdn::auth
