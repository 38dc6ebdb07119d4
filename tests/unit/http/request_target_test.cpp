#include "common/http/request_target.h"

#include <gtest/gtest.h>

#include <random>

using cdn::http::EscapedSlashes;
using cdn::http::normalize_target;

namespace {

struct TargetCase {
  const char* in;
  const char* out;  // path?query, or the error reason when refused
  bool refused = false;
};

std::string show(const cdn::http::NormalizedTarget& t) {
  if (!t.ok()) return t.error;
  return t.has_query ? t.path + "?" + t.query : t.path;
}

void check(const std::vector<TargetCase>& cases, EscapedSlashes slashes) {
  for (const auto& c : cases) {
    auto t = normalize_target(c.in, slashes);
    EXPECT_EQ(!t.ok(), c.refused) << c.in << " -> " << show(t);
    EXPECT_EQ(show(t), c.out) << c.in;
  }
}

TEST(RequestTarget, Normalizes) {
  check({{"/", "/"},
         {"/vod/x.ts", "/vod/x.ts"},
         {"//vod/x", "/vod/x"},
         {"/vod//x///y", "/vod/x/y"},
         {"/%76od/x", "/vod/x"},
         {"/%7e%41%2d%2E%5f%30", "/~A-._0"},
         {"/a%3ab%c3%a9", "/a%3Ab%C3%A9"},
         {"/a/./b/../c", "/a/c"},
         {"/a/b/..", "/a/"},
         {"/a/b/.", "/a/b/"},
         {"/..", "/"},
         {"/../../etc/passwd", "/etc/passwd"},
         {"/vod/free/.%2E/premium/x", "/vod/premium/x"},
         {"/vod/free/..%2E/premium/x", "/vod/free/.../premium/x"},
         {"/vod/free/%2e%2e/premium/x", "/vod/premium/x"},
         {"/a/%2E/b", "/a/b"},
         {"/a/.../b", "/a/.../b"},
         {"/a/..b/c", "/a/..b/c"},
         {"/dir/", "/dir/"},
         {"/a?", "/a?"},
         {"/a?x=1&y=%7e&z=%2f%3F", "/a?x=1&y=~&z=%2F%3F"},
         {"/a?p=/b/../c?d", "/a?p=/b/../c?d"},
         {"/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;="},
         {"/a?%2F", "/a?%2F"}},
        EscapedSlashes::Refuse);
}

TEST(RequestTarget, RefusesBytesOutsideTheGrammar) {
  std::vector<TargetCase> cases;
  for (const char* in :
       {"/a\tb", "/a b", "/a\x7f", "/a\xff", "/a\"b", "/a<b",    "/a>b",      "/a\\b",
        "/a^b",  "/a`b", "/a{b",   "/a|b",   "/a}b",  "/a#frag", "/a?q#frag", "/a?x=[1]",
        "/%G1",  "/%4",  "/a%",    "/a?%zz", "*",     "vod/x",   ""})
    cases.push_back({in, "bad-request-target", true});
  check(cases, EscapedSlashes::Refuse);
}

TEST(RequestTarget, RefusesEncodedNulAnywhere) {
  check({{"/a%00b", "encoded-nul", true}, {"/a?x=%00", "encoded-nul", true}}, EscapedSlashes::Keep);
}

TEST(RequestTarget, EscapedSlashesRefusedByDefault) {
  check({{"/a%2Fb", "encoded-slash", true},
         {"/a%2fb", "encoded-slash", true},
         {"/a%5Cb", "encoded-slash", true},
         {"/vod/free/..%2fpremium/x", "encoded-slash", true}},
        EscapedSlashes::Refuse);
}

TEST(RequestTarget, EscapedSlashesKeptEncodedWhenConfigured) {
  check({{"/bucket/a%2fb", "/bucket/a%2Fb"},
         {"/a%5cb", "/a%5Cb"},
         {"/vod/free/..%2Fpremium/x", "/vod/free/..%2Fpremium/x"},
         {"/a/%2F/../b", "/a/b"}},
        EscapedSlashes::Keep);
}

// Normalizing is idempotent and its output never holds "//", "/./" or "/../" nor ends in a dot
// segment, for any input made of the characters that matter.
TEST(RequestTarget, PropertiesOnRandomTargets) {
  const std::string alphabet = "/./%2e%2E%2f%5C%41a?=&~";
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in = "/";
    for (size_t n = rng() % 24; n > 0; --n) in += alphabet[rng() % alphabet.size()];
    for (auto slashes : {EscapedSlashes::Refuse, EscapedSlashes::Keep}) {
      auto t = normalize_target(in, slashes);
      if (!t.ok()) continue;
      ++accepted;
      std::string once = show(t);
      auto again = normalize_target(once, slashes);
      ASSERT_TRUE(again.ok()) << in;
      EXPECT_EQ(show(again), once) << in;
      for (const char* bad : {"//", "/./", "/../"})
        EXPECT_EQ(t.path.find(bad), std::string::npos) << in;
      EXPECT_EQ(t.path.front(), '/');
      EXPECT_FALSE(t.path.ends_with("/.") || t.path.ends_with("/..")) << in;
    }
  }
  EXPECT_GT(accepted, 5000);
}

}  // namespace
