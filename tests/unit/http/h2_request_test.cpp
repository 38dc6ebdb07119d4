#include "common/http/h2_request.h"

#include <gtest/gtest.h>

namespace cdn::http {
namespace {

H2RequestBuilder builder(size_t max_list = 32768) {
  ParseLimits limits;
  limits.max_url_bytes = 64;
  limits.max_field_bytes = 100;
  limits.max_headers = 4;
  return H2RequestBuilder(limits, max_list);
}

void pseudo(H2RequestBuilder& b, std::string_view path, std::string_view authority = "a.test:443") {
  b.add(":method", "GET");
  b.add(":scheme", "https");
  b.add(":authority", authority);
  b.add(":path", path);
}

TEST(H2Request, BuildsTheSameRequestAsTheHttp11Parser) {
  auto b = builder();
  pseudo(b, "/vod/./a/../b%7e.ts?token=x", "A.Test:443");
  b.add("cookie", "a=1");
  b.add("accept", " */* ");
  b.add("cookie", "b=2");
  ASSERT_TRUE(b.finish(false));
  const Request& r = b.request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/vod/b~.ts");
  EXPECT_EQ(r.query, "token=x");
  EXPECT_EQ(r.target, "/vod/b~.ts?token=x");
  EXPECT_EQ(r.host, "a.test");
  EXPECT_EQ(r.headers.get_or("host"), "A.Test:443");
  EXPECT_EQ(r.headers.get_or("cookie"), "a=1; b=2");  // RFC 9113 §8.2.3
  EXPECT_EQ(r.headers.get_or("accept"), "*/*");
  EXPECT_FALSE(r.has_body);
}

TEST(H2Request, HostHeaderServesWhenThereIsNoAuthority) {
  auto b = builder();
  b.add(":method", "GET");
  b.add(":path", "/x");
  b.add("host", "b.test");
  ASSERT_TRUE(b.finish(true));
  EXPECT_EQ(b.request().host, "b.test");
  EXPECT_TRUE(b.request().has_body);
}

TEST(H2Request, AuthorityReplacesAHostFieldInPlace) {
  auto b = builder();
  pseudo(b, "/x", "a.test");
  b.add("host", " other.test ");
  b.add("accept", "*/*");
  ASSERT_TRUE(b.finish(false));
  const Request& r = b.request();
  EXPECT_EQ(r.host, "a.test");  // RFC 9113 §8.3.1: :authority wins
  EXPECT_EQ(r.headers.count("host"), 1u);
  EXPECT_EQ(r.headers.get_or("host"), "a.test");
  EXPECT_EQ(r.headers.raw().front().name, "host");  // where the client put it
}

struct Refusal {
  const char* name;
  void (*fill)(H2RequestBuilder&);
  int status;
  const char* reason;
};

const Refusal kRefusals[] = {
    {"no-host", [](H2RequestBuilder& b) { b.add(":method", "GET"), b.add(":path", "/x"); }, 400,
     "missing-host"},
    {"bad-host", [](H2RequestBuilder& b) { pseudo(b, "/x", "a b"); }, 400, "bad-host"},
    {"two-hosts",
     [](H2RequestBuilder& b) {
       b.add(":method", "GET"), b.add(":path", "/x"), b.add("host", "a"), b.add("host", "b");
     },
     400, "duplicate-host"},
    {"escaped-slash", [](H2RequestBuilder& b) { pseudo(b, "/a%2Fb"); }, 400, nullptr},
    {"long-path", [](H2RequestBuilder& b) { pseudo(b, "/" + std::string(100, 'a')); }, 414,
     "url-too-long"},
    {"long-field", [](H2RequestBuilder& b) { pseudo(b, "/x"), b.add("x", std::string(101, 'v')); },
     431, "field-too-large"},
    {"many-fields",
     [](H2RequestBuilder& b) {
       pseudo(b, "/x");
       for (int i = 0; i < 5; ++i) b.add("x-" + std::to_string(i), "v");
     },
     431, "too-many-headers"},
    {"connect",
     [](H2RequestBuilder& b) { b.add(":method", "CONNECT"), b.add(":authority", "a:1"); }, 405,
     "method-not-allowed"},
};

TEST(H2Request, RefusesWhatHttp11Refuses) {
  for (const auto& r : kRefusals) {
    auto b = builder();
    r.fill(b);
    EXPECT_FALSE(b.finish(false)) << r.name;
    EXPECT_EQ(b.error_status(), r.status) << r.name;
    if (r.reason) {
      EXPECT_STREQ(b.error_reason(), r.reason) << r.name;
    }
  }
}

TEST(H2Request, HeaderListSizeCountsNameValueAndOverhead) {
  auto b = builder(200);
  pseudo(b, "/x");  // 4 fields: 32 each plus their text (~ 165 bytes)
  b.add("a", "b");  // 34 more: over 200
  EXPECT_FALSE(b.finish(false));
  EXPECT_EQ(b.error_status(), 431);
  EXPECT_STREQ(b.error_reason(), "header-list-too-large");
}

}  // namespace
}  // namespace cdn::http
