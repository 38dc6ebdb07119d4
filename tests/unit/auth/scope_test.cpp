#include "common/auth/scope.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/auth/base64url.h"
#include "common/auth/claims.h"
#include "common/auth/ossl.h"

namespace cdn::auth {

TEST(Scope, PathPrefix) {
  auto s = Scope::compile("", "/vod/movie1/");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->allows("/vod/movie1/master.m3u8"));
  EXPECT_TRUE(s->allows("/vod/movie1/720p/seg_001.ts?x=1"));
  EXPECT_FALSE(s->allows("/vod/movie10/master.m3u8"));
  EXPECT_FALSE(s->allows("/vod/"));
  EXPECT_FALSE(s->allows("/vod/movie1/../movie2/a.ts"));
  EXPECT_FALSE(s->allows("/vod/movie1/%2E%2e/movie2/a.ts"));
  EXPECT_FALSE(Scope::compile("", "vod/").ok());
}

TEST(Scope, RegexMustMatchTheWholePath) {
  auto s = Scope::compile(R"(regex:/live/ch[0-9]+/.*\.(m3u8|ts))", "");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->allows("/live/ch1/720p/index.m3u8"));
  EXPECT_FALSE(s->allows("/live/chX/720p/index.m3u8"));
  EXPECT_FALSE(s->allows("/x/live/ch1/a.ts"));
  EXPECT_FALSE(s->allows("/live/ch1/a.ts.mp4"));
  EXPECT_FALSE(Scope::compile("regex:(unclosed", "").ok());
  EXPECT_FALSE(Scope::compile("regex:", "").ok());
  EXPECT_FALSE(Scope::compile("regex:" + std::string(Scope::kMaxPatternBytes + 1, 'a'), "").ok());
}

TEST(Scope, CatastrophicBacktrackingPatternsRunInLinearTime) {
  auto s = Scope::compile("regex:(a|aa)+$|(a+)+b|(.*a){20}", "");
  ASSERT_TRUE(s.ok());
  std::string input = "/" + std::string(100000, 'a') + "!";
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(s->allows(input));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 1000);
}

TEST(Scope, HashOfTheUri) {
  std::string uri = "/vod/movie1/master.m3u8";
  auto s = Scope::compile("hash:" + base64url_encode(ossl::sha256_digest(uri)), "");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->allows(uri));
  EXPECT_FALSE(s->allows(uri + "?"));
  EXPECT_FALSE(Scope::compile("hash:abc", "").ok());
  EXPECT_FALSE(Scope::compile("hash:" + base64url_encode("short"), "").ok());
}

TEST(Scope, AllPresentConstraintsMustHold) {
  auto s = Scope::compile(R"(regex:.*\.ts)", "/vod/a/");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->allows("/vod/a/1.ts"));
  EXPECT_FALSE(s->allows("/vod/a/index.m3u8"));
  EXPECT_FALSE(s->allows("/vod/b/1.ts"));
  auto none = Scope::compile("", "");
  EXPECT_TRUE(none->unrestricted());
  EXPECT_TRUE(none->allows("/anything"));
  EXPECT_FALSE(Scope::compile("uri:/x", "").ok());
}

TEST(Scope, ScopeAllowsOnParsedClaims) {
  auto c = parse_claims(R"J({"path":"/live/ch1/","cdniuc":"regex:.*\\.(m3u8|ts)"})J");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(scope_allows(*c, "/live/ch1/index.m3u8"));
  EXPECT_FALSE(scope_allows(*c, "/live/ch1/key.bin"));
  EXPECT_FALSE(scope_allows(*c, "/live/ch2/index.m3u8"));
}

}  // namespace cdn::auth
