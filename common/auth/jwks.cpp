#include "common/auth/jwks.h"

#include <fstream>
#include <sstream>

#include "common/auth/base64url.h"
#include "common/auth/json.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>

namespace cdn::auth {

const Key* KeySet::find(std::string_view kid) const {
  for (const auto& k : keys_)
    if (k.kid() == kid) return &k;
  return nullptr;
}

namespace {

constexpr size_t kMaxJwksBytes = 1 << 20;

// Reads a base64url member; absent → empty string when optional.
Result<std::string> member_bytes(const json::Value& jwk, std::string_view name, bool required) {
  const json::Value* v = jwk.find(name);
  if (!v) {
    if (required) return make_error("missing \"" + std::string(name) + "\"");
    return std::string();
  }
  const std::string* s = v->as_string();
  if (!s) return make_error("\"" + std::string(name) + "\" is not a string");
  auto bytes = base64url_decode(*s);
  if (!bytes || bytes->empty()) return make_error("\"" + std::string(name) + "\" is not base64url");
  return std::move(*bytes);
}

std::string string_member(const json::Value& jwk, std::string_view name) {
  const json::Value* v = jwk.find(name);
  const std::string* s = v ? v->as_string() : nullptr;
  return s ? *s : std::string();
}

Result<Alg> implied_alg(const std::string& kty, const std::string& crv) {
  if (kty == "EC" && crv == "P-256") return Alg::ES256;
  if (kty == "OKP" && crv == "Ed25519") return Alg::EdDSA;
  if (kty == "oct") return Alg::HS256;
  return make_error("unsupported key type kty=\"" + kty + "\" crv=\"" + crv + "\"");
}

Result<Key> parse_jwk(const json::Value& jwk) {
  if (!jwk.as_object()) return make_error("key is not an object");
  std::string kid = string_member(jwk, "kid");
  if (kid.empty()) return make_error("missing \"kid\"");
  std::string use = string_member(jwk, "use");
  if (!use.empty() && use != "sig") return make_error("key " + kid + ": use is not \"sig\"");
  auto alg = implied_alg(string_member(jwk, "kty"), string_member(jwk, "crv"));
  if (!alg) return make_error("key " + kid + ": " + alg.error().message);
  if (const json::Value* a = jwk.find("alg")) {
    const std::string* name = a->as_string();
    if (!name || alg_from_name(*name) != *alg)
      return make_error("key " + kid + ": alg does not match kty/crv (expected " +
                        std::string(alg_name(*alg)) + ")");
  }
  auto fail = [&](const Error& e) { return make_error("key " + kid + ": " + e.message); };
  switch (*alg) {
    case Alg::ES256: {
      auto x = member_bytes(jwk, "x", true), y = member_bytes(jwk, "y", true),
           d = member_bytes(jwk, "d", false);
      if (!x) return fail(x.error());
      if (!y) return fail(y.error());
      if (!d) return fail(d.error());
      auto key = Key::ec_p256(kid, *x, *y, *d);
      if (!key) return fail(key.error());
      return key;
    }
    case Alg::EdDSA: {
      auto x = member_bytes(jwk, "x", true), d = member_bytes(jwk, "d", false);
      if (!x) return fail(x.error());
      if (!d) return fail(d.error());
      auto key = Key::ed25519(kid, *x, *d);
      if (!key) return fail(key.error());
      return key;
    }
    case Alg::HS256: {
      auto k = member_bytes(jwk, "k", true);
      if (!k) return fail(k.error());
      auto key = Key::hmac_sha256(kid, *k);
      if (!key) return fail(key.error());
      return key;
    }
  }
  return make_error("unreachable");
}

std::string bn_bytes(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return {};
  ossl::Bn bn(raw);
  std::string out(32, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) return {};
  return out;
}

}  // namespace

Result<KeySet> parse_jwks(std::string_view text) {
  auto doc = json::parse(text, json::Limits{kMaxJwksBytes, 8});
  if (!doc) return make_error("jwks: " + doc.error().message);
  const json::Value* keys = doc->find("keys");
  const json::Array* arr = keys ? keys->as_array() : nullptr;
  if (!arr) return make_error("jwks: missing \"keys\" array");
  std::vector<Key> out;
  for (const auto& jwk : *arr) {
    auto key = parse_jwk(jwk);
    if (!key) return make_error("jwks: " + key.error().message);
    for (const auto& k : out)
      if (k.kid() == key->kid()) return make_error("jwks: duplicate kid " + k.kid());
    out.push_back(std::move(*key));
  }
  return KeySet(std::move(out));
}

Result<KeySet> load_jwks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > kMaxJwksBytes) return make_error(path + ": larger than 1 MiB");
  auto set = parse_jwks(buf.str());
  if (!set) return make_error(path + ": " + set.error().message);
  return set;
}

Result<std::string> generate_jwk(Alg alg, std::string_view kid) {
  json::Object o;
  o.push_back({"kid", json::Value{std::string(kid)}});
  o.push_back({"alg", json::Value{std::string(alg_name(alg))}});
  auto b64 = [](std::string_view s) { return json::Value{base64url_encode(s)}; };
  if (alg == Alg::HS256) {
    unsigned char secret[32];
    if (RAND_bytes(secret, sizeof secret) != 1) return make_error("RAND_bytes failed");
    o.push_back({"kty", json::Value{std::string("oct")}});
    o.push_back({"k", b64(std::string_view(reinterpret_cast<char*>(secret), sizeof secret))});
    return json::serialize(json::Value{std::move(o)});
  }
  ossl::PKey pkey(alg == Alg::ES256 ? EVP_EC_gen("P-256") : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return make_error("key generation failed");
  if (alg == Alg::ES256) {
    std::string x = bn_bytes(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X),
                y = bn_bytes(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y),
                d = bn_bytes(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY);
    if (x.empty() || y.empty() || d.empty()) return make_error("EC key export failed");
    o.push_back({"kty", json::Value{std::string("EC")}});
    o.push_back({"crv", json::Value{std::string("P-256")}});
    o.push_back({"x", b64(x)});
    o.push_back({"y", b64(y)});
    o.push_back({"d", b64(d)});
  } else {
    unsigned char x[32], d[32];
    size_t xl = 32, dl = 32;
    if (EVP_PKEY_get_raw_public_key(pkey.get(), x, &xl) != 1 ||
        EVP_PKEY_get_raw_private_key(pkey.get(), d, &dl) != 1)
      return make_error("Ed25519 key export failed");
    o.push_back({"kty", json::Value{std::string("OKP")}});
    o.push_back({"crv", json::Value{std::string("Ed25519")}});
    o.push_back({"x", b64(std::string_view(reinterpret_cast<char*>(x), xl))});
    o.push_back({"d", b64(std::string_view(reinterpret_cast<char*>(d), dl))});
  }
  return json::serialize(json::Value{std::move(o)});
}

Result<std::string> public_jwk(std::string_view private_jwk) {
  auto v = json::parse(private_jwk);
  if (!v || !v->as_object()) return make_error("not a JWK object");
  if (const json::Value* kty = v->find("kty"); !kty || !kty->as_string() || *kty->as_string() != "oct")
    json::erase(*v->as_object(), "d");
  return json::serialize(*v);
}

}  // namespace cdn::auth
