#include "common/auth/key.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

namespace cdn::auth {

std::string_view alg_name(Alg alg) {
  switch (alg) {
    case Alg::ES256: return "ES256";
    case Alg::EdDSA: return "EdDSA";
    case Alg::HS256: return "HS256";
  }
  return "";
}

std::optional<Alg> alg_from_name(std::string_view name) {
  if (name == "ES256") return Alg::ES256;
  if (name == "EdDSA") return Alg::EdDSA;
  if (name == "HS256") return Alg::HS256;
  return std::nullopt;
}

namespace {

constexpr size_t kCoord = 32;

const EVP_MAC* hmac_impl() {
  static const ossl::Mac mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

bool check_key(EVP_PKEY* pkey, bool has_private) {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx) return false;
  if (has_private) return EVP_PKEY_pairwise_check(ctx.get()) == 1;
  return EVP_PKEY_public_check(ctx.get()) == 1;
}

std::optional<std::string> der_to_jose(std::string_view der) {
  const unsigned char* p = ossl::bytes(der);
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * kCoord, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, kCoord) != kCoord || BN_bn2binpad(s, o + kCoord, kCoord) != kCoord)
    return std::nullopt;
  return out;
}

std::optional<std::string> jose_to_der(std::string_view jose) {
  if (jose.size() != 2 * kCoord) return std::nullopt;
  ossl::Bn r(BN_bin2bn(ossl::bytes(jose), kCoord, nullptr));
  ossl::Bn s(BN_bin2bn(ossl::bytes(jose) + kCoord, kCoord, nullptr));
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<Key> Key::ec_p256(std::string kid, std::string_view x, std::string_view y,
                         std::string_view d) {
  if (x.size() != kCoord || y.size() != kCoord) return make_error("EC key: x and y must be 32 bytes");
  if (!d.empty() && d.size() != kCoord) return make_error("EC key: d must be 32 bytes");
  std::string pub;
  pub.reserve(1 + 2 * kCoord);
  pub += '\x04';  // uncompressed point
  pub.append(x);
  pub.append(y);

  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  using SecretBn = std::unique_ptr<BIGNUM, ossl::Deleter<BN_clear_free>>;
  SecretBn priv(d.empty() ? nullptr : BN_bin2bn(ossl::bytes(d), static_cast<int>(d.size()), nullptr));
  if (!bld || (!d.empty() && !priv) ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()) != 1 ||
      (priv && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1))
    return make_error("EC key: parameter build failed");
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1)
    return make_error("EC key: not a valid P-256 key");
  Key key(std::move(kid), Alg::ES256);
  key.pkey_.reset(raw);
  if (!check_key(raw, priv != nullptr)) return make_error("EC key: point not on curve or d does not match");
  key.can_sign_ = priv != nullptr;
  return key;
}

Result<Key> Key::ed25519(std::string kid, std::string_view x, std::string_view d) {
  if (x.size() != kCoord) return make_error("Ed25519 key: x must be 32 bytes");
  Key key(std::move(kid), Alg::EdDSA);
  if (d.empty()) {
    key.pkey_.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, ossl::bytes(x), x.size()));
    if (!key.pkey_) return make_error("Ed25519 key: invalid public key");
    return key;
  }
  if (d.size() != kCoord) return make_error("Ed25519 key: d must be 32 bytes");
  key.pkey_.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, ossl::bytes(d), d.size()));
  if (!key.pkey_) return make_error("Ed25519 key: invalid private key");
  unsigned char derived[kCoord];
  size_t len = sizeof derived;
  if (EVP_PKEY_get_raw_public_key(key.pkey_.get(), derived, &len) != 1 || len != kCoord ||
      CRYPTO_memcmp(derived, x.data(), kCoord) != 0)
    return make_error("Ed25519 key: d does not match x");
  key.can_sign_ = true;
  return key;
}

Result<Key> Key::hmac_sha256(std::string kid, std::string_view secret) {
  if (secret.size() < 32) return make_error("HS256 key: secret shorter than 32 bytes");
  Key key(std::move(kid), Alg::HS256);
  key.mac_base_.reset(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(hmac_impl())));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!key.mac_base_ ||
      EVP_MAC_init(key.mac_base_.get(), ossl::bytes(secret), secret.size(), params) != 1)
    return make_error("HS256 key: HMAC init failed");
  key.can_sign_ = true;
  return key;
}

std::string Key::hmac(std::string_view data) const {
  ossl::MacCtx ctx(EVP_MAC_CTX_dup(mac_base_.get()));
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!ctx || EVP_MAC_update(ctx.get(), ossl::bytes(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &len, sizeof out) != 1)
    return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

Result<std::string> Key::sign(std::string_view input) const {
  if (!can_sign_) return make_error("key " + kid_ + " has no private part");
  if (alg_ == Alg::HS256) {
    std::string mac = hmac(input);
    if (mac.empty()) return make_error("HMAC failed");
    return mac;
  }
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  const EVP_MD* md = alg_ == Alg::ES256 ? ossl::sha256() : nullptr;  // Ed25519 hashes internally
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, ossl::bytes(input), input.size()) != 1)
    return make_error("sign init failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     ossl::bytes(input), input.size()) != 1)
    return make_error("sign failed");
  sig.resize(len);
  if (alg_ == Alg::EdDSA) return sig;
  auto jose = der_to_jose(sig);
  if (!jose) return make_error("ECDSA signature conversion failed");
  return *jose;
}

bool Key::verify(std::string_view input, std::string_view signature) const {
  if (alg_ == Alg::HS256) {
    if (signature.size() != 32) return false;
    std::string mac = hmac(input);
    return mac.size() == 32 && CRYPTO_memcmp(mac.data(), signature.data(), 32) == 0;
  }
  std::string der;
  if (alg_ == Alg::ES256) {
    auto d = jose_to_der(signature);
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  } else if (signature.size() != 64) {
    return false;
  }
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  const EVP_MD* md = alg_ == Alg::ES256 ? ossl::sha256() : nullptr;
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), ossl::bytes(signature), signature.size(), ossl::bytes(input),
                          input.size()) == 1;
}

}  // namespace cdn::auth
