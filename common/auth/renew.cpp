#include "common/auth/renew.h"

#include "common/auth/json.h"
#include "common/auth/jws.h"
#include "common/auth/saturating.h"

namespace cdn::auth {

Result<std::string> renew(const Claims& claims, const Key& renewal_key, int64_t now_s) {
  if (!claims.cdniets) return make_error("token has no cdniets: renewal not offered");
  auto doc = json::parse(claims.raw_payload);
  if (!doc || !doc->as_object()) return make_error("claims payload does not parse");
  json::Object& obj = *doc->as_object();
  auto num = [](int64_t v) { return json::Value{json::Number{static_cast<double>(v), v}}; };
  json::set(obj, "exp", num(saturating_add(now_s, *claims.cdniets)));
  json::set(obj, "iat", num(now_s));
  json::erase(obj, "nbf");
  if (!claims.sid.empty()) json::set(obj, "sid", json::Value{claims.sid});
  return sign(json::serialize(*doc), renewal_key);
}

}  // namespace cdn::auth
