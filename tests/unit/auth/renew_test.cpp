#include "common/auth/renew.h"

#include <gtest/gtest.h>

#include <limits>

#include "auth_test_util.h"
#include "common/auth/verifier.h"

namespace cdn::auth {

TEST(Renew, NewTokenKeepsSessionAndScopeWithShortExp) {
  auto keys = testing::keyset(testing::jwks_of({testing::gen(Alg::ES256, "owner"),
                                                testing::gen(Alg::EdDSA, "renewal")}));
  VerifyPolicy policy{"iss-1", "aud-1"};
  Verifier v(keys, policy, 0);
  std::string original = *sign(
      R"({"iss":"iss-1","aud":"aud-1","sub":"v1","jti":"J","exp":1700086400,"nbf":1699990000,)"
      R"("path":"/live/ch1/","climit":2,"cbeh":"BLOCK_NEW","cdniets":60,"cdnistt":2})",
      *keys->find("owner"));
  TokenRequest req{"/live/ch1/index.m3u8", "192.0.2.1", 1700000000};
  auto first = v.verify(original, req);
  ASSERT_TRUE(first.ok()) << first.rejection().reason;

  auto renewed = renew(first.claims(), *keys->find("renewal"), 1700000000);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  auto second = v.verify(*renewed, req);
  ASSERT_TRUE(second.ok()) << second.rejection().reason;
  const Claims& c = second.claims();
  EXPECT_EQ(c.exp, 1700000060);
  EXPECT_EQ(c.iat, 1700000000);
  EXPECT_FALSE(c.nbf.has_value());
  EXPECT_EQ(c.sub, "v1");
  EXPECT_EQ(c.sid, first.claims().sid);  // the derived sid is carried explicitly
  EXPECT_FALSE(c.sid_derived);
  EXPECT_EQ(c.path, "/live/ch1/");
  EXPECT_EQ(c.climit, 2);
  EXPECT_EQ(c.cbeh, LimitBehaviour::BlockNew);
  EXPECT_EQ(c.cdniets, 60);
  EXPECT_EQ(v.verify(*renewed, {req.path, req.client_addr, 1700000000 + 60 + 31}).rejection().reason, "expired");
}

TEST(Renew, RefusedWithoutCdniets) {
  auto keys = testing::keyset(testing::jwks_of({testing::gen(Alg::HS256, "k")}));
  Claims c;
  c.raw_payload = R"({"exp":1})";
  EXPECT_FALSE(renew(c, *keys->find("k"), 0).ok());
}

TEST(Renew, ExpiryAtTheEndOfTimeSaturates) {
  auto keys = testing::keyset(testing::jwks_of({testing::gen(Alg::EdDSA, "k")}));
  Verifier v(keys, VerifyPolicy{}, 0);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::string original = *sign(R"({"sub":"v1","sid":"s","exp":9223372036854775807,"cdniets":60})", *keys->find("k"));
  auto first = v.verify(original, {"/live/a.ts", "192.0.2.1", kMax - 10});
  ASSERT_TRUE(first.ok()) << first.rejection().reason;
  // now + cdniets would pass 2^63-1: the renewed exp is clamped there, not wrapped into the past.
  auto renewed = renew(first.claims(), *keys->find("k"), kMax - 10);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  auto second = v.verify(*renewed, {"/live/a.ts", "192.0.2.1", kMax - 10});
  ASSERT_TRUE(second.ok()) << second.rejection().reason;
  EXPECT_EQ(second.claims().exp, kMax);
}

}  // namespace cdn::auth
