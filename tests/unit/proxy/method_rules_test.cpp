#include "common/proxy/method_rules.h"

#include <gtest/gtest.h>

namespace cdn::proxy {
namespace {

const std::vector<MethodRule> kRules = {{"/vod/*", {}}, {"/api/upload*", {"POST", "PUT"}}};

TEST(MethodRules, GetAndHeadAreAlwaysAllowed) {
  EXPECT_TRUE(method_allowed("GET", "/vod/a.ts", kRules));
  EXPECT_TRUE(method_allowed("HEAD", "/vod/a.ts", kRules));
}

TEST(MethodRules, TheFirstMatchingRuleDecidesAndUnmatchedPathsPassEverything) {
  EXPECT_FALSE(method_allowed("POST", "/vod/a.ts", kRules));
  EXPECT_TRUE(method_allowed("PUT", "/api/upload/1", kRules));
  EXPECT_FALSE(method_allowed("DELETE", "/api/upload/1", kRules));
  EXPECT_TRUE(method_allowed("DELETE", "/other", kRules));
}

TEST(MethodRules, AllowListsWhatThePathTakes) {
  EXPECT_EQ(allowed_methods("/vod/a.ts", kRules), "GET, HEAD");
  EXPECT_EQ(allowed_methods("/api/upload/1", kRules), "GET, HEAD, POST, PUT");
  EXPECT_EQ(allowed_methods("/other", kRules), "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
}

TEST(MethodRules, SafeMethods) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE"}) EXPECT_TRUE(is_safe_method(m)) << m;
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH"}) EXPECT_FALSE(is_safe_method(m)) << m;
}

}  // namespace
}  // namespace cdn::proxy
