#include "common/auth/jwks.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "auth_test_util.h"
#include "common/auth/json.h"

namespace cdn::auth {
using testing::gen;
using testing::jwks_of;

TEST(Jwks, LoadsAllThreeKindsBoundToTheirAlgorithm) {
  auto set = parse_jwks(jwks_of({gen(Alg::ES256, "es"), gen(Alg::EdDSA, "ed"), gen(Alg::HS256, "hs")}));
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->find("es")->alg(), Alg::ES256);
  EXPECT_EQ(set->find("ed")->alg(), Alg::EdDSA);
  EXPECT_EQ(set->find("hs")->alg(), Alg::HS256);
  EXPECT_TRUE(set->find("es")->can_sign());
  EXPECT_EQ(set->find("nope"), nullptr);
}

TEST(Jwks, PublicOnlyKeysVerifyButCannotSign) {
  std::string priv = gen(Alg::ES256, "es");
  auto pub = public_jwk(priv);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->find("\"d\""), std::string::npos);
  auto signer = parse_jwks(jwks_of({priv}));
  auto verifier = parse_jwks(jwks_of({*pub}));
  ASSERT_TRUE(signer.ok() && verifier.ok());
  EXPECT_FALSE(verifier->find("es")->can_sign());
  auto sig = signer->find("es")->sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);  // JOSE r||s, not DER
  EXPECT_TRUE(verifier->find("es")->verify("hello", *sig));
  EXPECT_FALSE(verifier->find("es")->verify("hellp", *sig));
  EXPECT_FALSE(verifier->find("es")->sign("x").ok());
}

TEST(Jwks, RejectsInconsistentOrUnsupportedKeys) {
  std::string es = gen(Alg::ES256, "es");
  auto with = [&](std::string_view key, std::string_view value) {
    auto v = json::parse(es);
    json::set(*v->as_object(), key, json::Value{std::string(value)});
    return jwks_of({json::serialize(*v)});
  };
  EXPECT_FALSE(parse_jwks(with("alg", "HS256")).ok());  // alg must agree with kty
  EXPECT_FALSE(parse_jwks(with("alg", "none")).ok());
  EXPECT_FALSE(parse_jwks(with("crv", "P-384")).ok());
  EXPECT_FALSE(parse_jwks(with("kty", "RSA")).ok());
  EXPECT_FALSE(parse_jwks(with("use", "enc")).ok());
  EXPECT_FALSE(parse_jwks(with("x", "AAAA")).ok());                                 // wrong size
  EXPECT_FALSE(parse_jwks(with("x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).ok());  // off curve
  EXPECT_FALSE(parse_jwks(with("kid", "")).ok());
  EXPECT_FALSE(parse_jwks(jwks_of({es, es})).ok());  // duplicate kid
  EXPECT_FALSE(parse_jwks(R"({"keys":[{"kid":"h","kty":"oct","k":"c2hvcnQ"}]})").ok());  // < 32 bytes
  EXPECT_FALSE(parse_jwks("{}").ok());
  EXPECT_FALSE(parse_jwks("not json").ok());
}

TEST(Jwks, RejectsPrivatePartThatDoesNotMatch) {
  auto a = json::parse(gen(Alg::ES256, "k"));
  auto b = json::parse(gen(Alg::ES256, "k"));
  json::set(*a->as_object(), "d", *b->find("d"));
  EXPECT_FALSE(parse_jwks(jwks_of({json::serialize(*a)})).ok());
  auto c = json::parse(gen(Alg::EdDSA, "k"));
  auto d = json::parse(gen(Alg::EdDSA, "k"));
  json::set(*c->as_object(), "d", *d->find("d"));
  EXPECT_FALSE(parse_jwks(jwks_of({json::serialize(*c)})).ok());
}

TEST(Jwks, LoadsFromFile) {
  std::string path = ::testing::TempDir() + "/auth_jwks_test.json";
  {
    std::ofstream(path) << jwks_of({gen(Alg::EdDSA, "ed")});
  }
  auto set = load_jwks(path);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_NE(set->find("ed"), nullptr);
  std::remove(path.c_str());
  auto missing = load_jwks(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path), std::string::npos);
}

}  // namespace cdn::auth
