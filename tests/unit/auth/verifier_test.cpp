#include "common/auth/verifier.h"

#include <gtest/gtest.h>

#include <openssl/bn.h>

#include <chrono>
#include <limits>

#include "auth_test_util.h"
#include "common/auth/json.h"

namespace cdn::auth {
namespace {

using testing::forge;
using testing::gen;
using testing::jwks_of;
using testing::keyset;

constexpr int64_t kNow = 1700000000;

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    es_jwk_ = gen(Alg::ES256, "es-1");
    keys_ = keyset(jwks_of({es_jwk_, gen(Alg::EdDSA, "ed-1"), gen(Alg::HS256, "hs-1")}));
    policy_.issuer = "https://pay.example";
    policy_.audience = "cdn.example";
  }
  const Key& key(std::string_view kid) { return *keys_->find(kid); }

  // Claims valid for /vod/movie1/ from 203.0.113.7 at kNow, with `extra` members appended.
  static std::string claims(std::string_view extra = "") {
    std::string c = R"({"iss":"https://pay.example","aud":"cdn.example","sub":"viewer-1","jti":"j-1",)"
                     R"("iat":1699999990,"exp":1700000600,"path":"/vod/movie1/")";
    if (!extra.empty()) c += std::string(",") + std::string(extra);
    return c + "}";
  }
  std::string token(std::string_view kid, std::string_view c = claims()) {
    auto t = sign(c, key(kid));
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : std::string();
  }
  VerifyResult verify(const std::string& t, std::string_view path = "/vod/movie1/seg1.ts",
                      std::string_view addr = "203.0.113.7", int64_t now = kNow, size_t cache = 0) {
    Verifier v(keys_, policy_, cache);
    return v.verify(t, TokenRequest{path, addr, now});
  }

  std::string es_jwk_;
  std::shared_ptr<const KeySet> keys_;
  VerifyPolicy policy_;
};

TEST_F(VerifierTest, AcceptsValidTokensOfEveryAlgorithm) {
  for (const char* kid : {"es-1", "ed-1", "hs-1"}) {
    auto r = verify(token(kid));
    ASSERT_TRUE(r.ok()) << kid << ": " << r.rejection().reason << " " << r.rejection().detail;
    EXPECT_EQ(r.claims().sub, "viewer-1");
    EXPECT_EQ(r.claims().exp, 1700000600);
  }
}

TEST_F(VerifierTest, HostileTokensAreRejectedWithTheirReason) {
  const std::string good = token("es-1");
  const std::string b64_claims = base64url_encode(claims());

  // HS256 "signed" with the ES256 key's public bytes as the HMAC secret, naming that key.
  auto pub = json::parse(es_jwk_);
  std::string pub_bytes = "\x04" + *base64url_decode(*pub->find("x")->as_string()) +
                          *base64url_decode(*pub->find("y")->as_string());
  auto confused = Key::hmac_sha256("es-1", pub_bytes);
  ASSERT_TRUE(confused.ok());
  auto confused_pub_jwk = Key::hmac_sha256("es-1", *public_jwk(es_jwk_));
  ASSERT_TRUE(confused_pub_jwk.ok());

  // Flip one payload character: still valid base64url, still JSON-shaped.
  std::string tampered = good;
  size_t p = tampered.find('.') + 5;
  tampered[p] = tampered[p] == 'A' ? 'B' : 'A';

  const std::string other = token("es-1", claims(R"("x":1)"));
  std::string catastrophic_claims = claims(R"("cdniuc":"regex:/(a+)+b")");
  std::string long_path = "/" + std::string(3000, 'a');

  struct Case {
    const char* name;
    std::string token;
    const char* reason;
    std::string path = "/vod/movie1/seg1.ts";
    std::string addr = "203.0.113.7";
  };
  std::vector<Case> cases = {
      {"alg none", base64url_encode(R"({"alg":"none","kid":"es-1"})") + "." + b64_claims + ".", "alg-none"},
      {"alg None, no signature part", base64url_encode(R"({"alg":"None"})") + "." + b64_claims + ".x", "alg-none"},
      {"HS256 with ES256 public key bytes", forge(R"({"alg":"HS256","kid":"es-1"})", claims(), *confused), "alg-mismatch"},
      {"HS256 with ES256 public JWK text", forge(R"({"alg":"HS256","kid":"es-1"})", claims(), *confused_pub_jwk), "alg-mismatch"},
      {"ES256 header on EdDSA key", forge(R"({"alg":"ES256","kid":"ed-1"})", claims(), key("ed-1")), "alg-mismatch"},
      {"unsupported alg RS256", forge(R"({"alg":"RS256","kid":"es-1"})", claims(), key("es-1")), "alg-mismatch"},
      {"tampered payload", tampered, "bad-signature"},
      {"signature of another token", good.substr(0, good.rfind('.')) + other.substr(other.rfind('.')), "bad-signature"},
      {"expired", token("hs-1", R"({"iss":"https://pay.example","aud":"cdn.example","exp":1699999000})"), "expired"},
      {"not yet valid", token("hs-1", claims(R"("nbf":1700000100)")), "not-yet-valid"},
      {"wrong aud", token("ed-1", R"({"iss":"https://pay.example","aud":["other.example"],"exp":1700000600})"), "wrong-audience"},
      {"missing aud", token("ed-1", R"({"iss":"https://pay.example","exp":1700000600})"), "wrong-audience"},
      {"wrong iss", token("ed-1", R"({"iss":"https://evil.example","aud":"cdn.example","exp":1700000600})"), "wrong-issuer"},
      {"path outside scope", good, "scope", "/vod/movie2/seg1.ts"},
      {"path escaping scope with dot segments", good, "scope", "/vod/movie1/../movie2/seg1.ts"},
      {"catastrophic regex scope", token("es-1", catastrophic_claims), "scope", "/vod/movie1/" + std::string(5000, 'a')},
      {"unknown kid", forge(R"({"alg":"ES256","kid":"es-9"})", claims(), key("es-1")), "unknown-kid"},
      {"no kid and no key for alg", base64url_encode(R"({"alg":"PS256"})") + "." + b64_claims + ".AAAA", "unknown-kid"},
      {"truncated", good.substr(0, good.size() - 10), "bad-signature"},
      {"truncated to two parts", good.substr(0, good.rfind('.')), "malformed"},
      {"truncated into header", good.substr(0, 12), "malformed"},
      {"five parts (JWE)", good + ".a.b", "malformed"},
      {"oversized", good + std::string(5000, 'A'), "too-large"},
      {"bad base64 in header", "eyJ=" + good.substr(good.find('.')), "bad-base64"},
      {"bad base64 in signature", good.substr(0, good.rfind('.') + 1) + "ab+/", "bad-base64"},
      {"header not JSON", base64url_encode("{alg:ES256}") + "." + b64_claims + ".AAAA", "malformed"},
      {"duplicate alg in header", base64url_encode(R"({"alg":"ES256","alg":"none"})") + "." + b64_claims + ".AAAA", "malformed"},
      {"crit header", forge(R"({"alg":"ES256","kid":"es-1","crit":["x"]})", claims(), key("es-1")), "malformed"},
      {"claims not JSON", forge(R"({"alg":"EdDSA","kid":"ed-1"})", "[1,2]", key("ed-1")), "malformed"},
      {"exp as string", token("ed-1", R"({"exp":"1700000600"})"), "malformed"},
      {"no exp", token("ed-1", R"({"iss":"https://pay.example","aud":"cdn.example"})"), "malformed"},
      {"bad cbeh", token("ed-1", claims(R"("cbeh":"EVICT_NEWEST")")), "malformed"},
      {"unsupported cdniuc", token("ed-1", claims(R"("cdniuc":"glob:/vod/*")")), "malformed"},
      {"oversized regex", token("ed-1", claims("\"cdniuc\":\"regex:" + std::string(2000, 'a') + "\"")), "malformed"},
      {"bound to another client address", token("es-1", claims(R"("cip":"198.51.100.1")")), "client-address"},
      {"bound to another network", token("es-1", claims(R"("cip":"198.51.100.0/24")")), "client-address"},
      {"empty", "", "malformed"},
  };
  for (const auto& c : cases) {
    auto start = std::chrono::steady_clock::now();
    auto r = verify(c.token, c.path, c.addr);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.rejection().reason, c.reason) << c.name << " (" << r.rejection().detail << ")";
    EXPECT_LT(ms, 500) << c.name;
  }
}

TEST_F(VerifierTest, LeewayAppliesToExpAndNbf) {
  policy_.leeway_s = 30;
  std::string t = token("hs-1", claims(R"("nbf":1700000020)"));
  EXPECT_TRUE(verify(t, "/vod/movie1/a.ts", "203.0.113.7", kNow).ok());       // nbf - 20 s
  EXPECT_FALSE(verify(t, "/vod/movie1/a.ts", "203.0.113.7", kNow - 20).ok());  // nbf - 40 s
  EXPECT_TRUE(verify(t, "/vod/movie1/a.ts", "203.0.113.7", 1700000600 + 30).ok());
  EXPECT_EQ(verify(t, "/vod/movie1/a.ts", "203.0.113.7", 1700000600 + 31).rejection().reason, "expired");
}

TEST_F(VerifierTest, TokenWithoutKidFindsTheKeyOfItsAlgorithm) {
  std::string t = forge(R"({"alg":"EdDSA"})", claims(), key("ed-1"));
  EXPECT_TRUE(verify(t).ok());
}

TEST_F(VerifierTest, ClientAddressBinding) {
  std::string exact = token("es-1", claims(R"("cip":"203.0.113.7")"));
  EXPECT_TRUE(verify(exact).ok());
  EXPECT_TRUE(verify(exact, "/vod/movie1/a.ts", "::ffff:203.0.113.7").ok());
  std::string v6 = token("es-1", claims(R"("cip":"2001:db8::/32")"));
  EXPECT_TRUE(verify(v6, "/vod/movie1/a.ts", "2001:db8:1::5").ok());
  EXPECT_EQ(verify(v6, "/vod/movie1/a.ts", "2001:db9::5").rejection().reason, "client-address");
  EXPECT_EQ(verify(v6).rejection().reason, "client-address");
  EXPECT_EQ(verify(token("es-1", claims(R"("cip":"10.0.0.0/33")"))).rejection().reason, "malformed");
}

TEST_F(VerifierTest, ExtractsSessionAndLimitClaims) {
  auto r = verify(token("ed-1", claims(R"("sid":"s-9","climit":3,"cbeh":"BLOCK_NEW","cdniets":120,"cdnistt":2,"scope":"x")")));
  ASSERT_TRUE(r.ok()) << r.rejection().reason;
  EXPECT_EQ(r.claims().sid, "s-9");
  EXPECT_FALSE(r.claims().sid_derived);
  EXPECT_EQ(r.claims().climit, 3);
  EXPECT_EQ(r.claims().cbeh, LimitBehaviour::BlockNew);
  EXPECT_EQ(r.claims().cdniets, 120);
  EXPECT_EQ(r.claims().cdnistt, 2);
  EXPECT_EQ(r.claims().aud, std::vector<std::string>{"cdn.example"});
  EXPECT_NE(r.claims().raw_payload.find("\"climit\":3"), std::string::npos);
}

TEST_F(VerifierTest, DerivedSidDependsOnPayloadAndPlace) {
  std::string t = token("ed-1");
  auto a = verify(t, "/vod/movie1/a.ts", "203.0.113.7");
  auto b = verify(t, "/vod/movie1/b.ts", "203.0.113.7");
  auto same_24 = verify(t, "/vod/movie1/a.ts", "203.0.113.8");
  auto other_24 = verify(t, "/vod/movie1/a.ts", "203.0.114.7");
  auto v6 = verify(t, "/vod/movie1/a.ts", "2001:db8::7");
  ASSERT_TRUE(a.ok() && b.ok() && same_24.ok() && other_24.ok() && v6.ok());
  EXPECT_TRUE(a.claims().sid_derived);
  EXPECT_EQ(a.claims().sid, b.claims().sid);
  EXPECT_EQ(a.claims().sid, same_24.claims().sid);  // default place: the /24
  EXPECT_NE(a.claims().sid, other_24.claims().sid);
  EXPECT_NE(a.claims().sid, v6.claims().sid);
  EXPECT_EQ(a.claims().sid, derive_sid(a.claims(), "203.0.113.0/24"));
  // Another token with the same jti is the same session; without jti the payload decides.
  EXPECT_EQ(verify(token("es-1")).claims().sid, a.claims().sid);
  policy_.address_prefix_v4 = 32;
  EXPECT_NE(verify(t, "/vod/movie1/a.ts", "203.0.113.8").claims().sid,
            verify(t, "/vod/movie1/a.ts", "203.0.113.7").claims().sid);
}

// ECDSA P-256 group order n: (r, s) and (r, n - s) are both valid signatures of one message.
std::string malleate_es256(const std::string& token) {
  size_t dot = token.rfind('.');
  auto sig = base64url_decode(std::string_view(token).substr(dot + 1));
  EXPECT_TRUE(sig && sig->size() == 64);
  if (!sig || sig->size() != 64) return token;
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig->data()) + 32, 32, nullptr);
  BIGNUM* flipped = BN_new();
  EXPECT_EQ(BN_sub(flipped, n, s), 1);
  std::string out = sig->substr(0, 32) + std::string(32, '\0');
  EXPECT_EQ(BN_bn2binpad(flipped, reinterpret_cast<unsigned char*>(out.data()) + 32, 32), 32);
  BN_free(n);
  BN_free(s);
  BN_free(flipped);
  return token.substr(0, dot + 1) + base64url_encode(out);
}

TEST_F(VerifierTest, MalleatedEcdsaSignatureIsTheSameSession) {
  // Without jti and sid the derived sid comes from the payload; with an explicit sid it is that sid.
  for (std::string c : {std::string(R"({"iss":"https://pay.example","aud":"cdn.example","sub":"viewer-1",)"
                                    R"("exp":1700000600,"path":"/vod/movie1/"})"),
                        claims(R"("sid":"s-1")")}) {
    std::string t = token("es-1", c);
    std::string twin = malleate_es256(t);
    ASSERT_NE(twin, t);
    for (size_t cache : {size_t(0), size_t(100)}) {
      Verifier v(keys_, policy_, cache);
      TokenRequest req{"/vod/movie1/a.ts", "203.0.113.7", kNow};
      auto a = v.verify(t, req);
      auto b = v.verify(twin, req);
      ASSERT_TRUE(a.ok()) << a.rejection().reason;
      ASSERT_TRUE(b.ok()) << "n - s must verify: " << b.rejection().reason << " " << b.rejection().detail;
      EXPECT_EQ(a.claims().sid, b.claims().sid);
      EXPECT_FALSE(a.claims().sid.empty());
    }
  }
}

TEST_F(VerifierTest, TimeClaimsAtTheInt64LimitsAreWellDefined) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  auto with = [&](const std::string& extra) {
    return token("es-1", R"({"iss":"https://pay.example","aud":"cdn.example","sub":"viewer-1",)"
                         R"("path":"/vod/movie1/",)" + extra + "}");
  };
  std::string max_exp = with(R"("exp":9223372036854775807)");
  std::string min_nbf = with(R"("exp":1700000600,"nbf":-9223372036854775808)");
  std::string max_nbf = with(R"("exp":1700000600,"nbf":9223372036854775807)");
  std::string min_exp = with(R"("exp":-9223372036854775808)");
  for (int64_t leeway : {int64_t(0), int64_t(30), kMax}) {
    policy_.leeway_s = leeway;
    for (size_t cache : {size_t(0), size_t(100)}) {
      SCOPED_TRACE("leeway " + std::to_string(leeway) + " cache " + std::to_string(cache));
      EXPECT_TRUE(verify(max_exp, "/vod/movie1/a.ts", "203.0.113.7", kNow, cache).ok());
      EXPECT_TRUE(verify(max_exp, "/vod/movie1/a.ts", "203.0.113.7", kMax, cache).ok());
      EXPECT_TRUE(verify(min_nbf, "/vod/movie1/a.ts", "203.0.113.7", kNow, cache).ok());
      // nbf = 2^63-1 is in the future unless the leeway reaches back that far.
      EXPECT_EQ(verify(max_nbf, "/vod/movie1/a.ts", "203.0.113.7", kNow, cache).ok(), leeway == kMax);
      // exp = -2^63 is long past even with the largest leeway (clamped, not wrapped round).
      EXPECT_EQ(verify(min_exp, "/vod/movie1/a.ts", "203.0.113.7", kNow, cache).rejection().reason, "expired");
      EXPECT_EQ(verify(max_exp, "/vod/movie1/a.ts", "203.0.113.7", kMin, cache).ok(), true);
    }
  }
}

TEST_F(VerifierTest, KeyRotationTwoKeysActiveThenOldRemoved) {
  std::string old_jwk = gen(Alg::ES256, "2024-01"), new_jwk = gen(Alg::ES256, "2024-02");
  auto both = keyset(jwks_of({old_jwk, new_jwk}));
  Verifier v(keyset(jwks_of({old_jwk})), policy_, 100);
  TokenRequest req{"/vod/movie1/a.ts", "203.0.113.7", kNow};
  std::string old_token = *sign(claims(), *both->find("2024-01"));
  std::string new_token = *sign(claims(), *both->find("2024-02"));
  EXPECT_TRUE(v.verify(old_token, req).ok());
  EXPECT_EQ(v.verify(new_token, req).rejection().reason, "unknown-kid");
  v.set_keys(both);
  EXPECT_TRUE(v.verify(old_token, req).ok());
  EXPECT_TRUE(v.verify(new_token, req).ok());
  v.set_keys(keyset(jwks_of({new_jwk})));
  // Cached from before the reload, yet refused: the cache is per key-set generation.
  EXPECT_EQ(v.verify(old_token, req).rejection().reason, "unknown-kid");
  EXPECT_TRUE(v.verify(new_token, req).ok());
}

TEST_F(VerifierTest, CacheSkipsSignatureButNotRequestChecks) {
  Verifier v(keys_, policy_, 100);
  std::string t = token("es-1");
  TokenRequest req{"/vod/movie1/a.ts", "203.0.113.7", kNow};
  ASSERT_TRUE(v.verify(t, req).ok());
  ASSERT_TRUE(v.verify(t, req).ok());
  EXPECT_EQ(v.verify(t, {"/vod/other/a.ts", "203.0.113.7", kNow}).rejection().reason, "scope");
  EXPECT_EQ(v.verify(t, {"/vod/movie1/a.ts", "203.0.113.7", 1700000600 + 31}).rejection().reason, "expired");
  // A tampered copy does not hit the entry of the genuine token.
  std::string tampered = t;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(v.verify(tampered, req).rejection().reason, "bad-signature");
}

TEST(TokenCache, BoundedAndExpiring) {
  TokenCache cache(32);
  auto claims = std::make_shared<const Claims>();
  for (int i = 0; i < 1000; ++i) cache.put(std::string(1, static_cast<char>(i)) + std::to_string(i), 1, 100, claims);
  EXPECT_LE(cache.size(), 32u);
  cache.put("k", 1, 100, claims);
  EXPECT_NE(cache.get("k", 1, 99), nullptr);
  EXPECT_EQ(cache.get("k", 2, 99), nullptr);  // other key generation
  cache.put("k", 1, 100, claims);
  EXPECT_EQ(cache.get("k", 1, 100), nullptr);  // expired
}

}  // namespace
}  // namespace cdn::auth
