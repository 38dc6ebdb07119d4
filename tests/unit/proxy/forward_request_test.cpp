#include "common/proxy/forward_request.h"

#include <gtest/gtest.h>

namespace cdn::proxy {
namespace {

http::Request request(std::initializer_list<http::Header> h) {
  http::Request r;
  r.method = "GET";
  r.headers = http::Headers(h);
  return r;
}

TEST(ForwardRequest, EndToEndFieldsGoHopByHopAndConnectionNamedDoNot) {
  auto r = request({{"Host", "a"},
                    {"Accept-Language", "sv"},
                    {"Connection", "keep-alive, X-Hop"},
                    {"X-Hop", "1"},
                    {"Keep-Alive", "timeout=5"},
                    {"TE", "trailers"},
                    {"Proxy-Authorization", "x"},
                    {"Authorization", "Basic x"},
                    {"Content-Length", "0"}});
  auto h = forwarded_fields(r, {}, true);
  EXPECT_EQ(h.get_or("accept-language"), "sv");
  EXPECT_EQ(h.get_or("authorization"), "Basic x");
  for (const char* gone :
       {"host", "connection", "x-hop", "keep-alive", "te", "proxy-authorization", "content-length"})
    EXPECT_EQ(h.get(gone), nullptr) << gone;
}

TEST(ForwardRequest, ACacheFillKeepsItsOwnConditionalsAndRange) {
  auto r = request({{"If-None-Match", "\"a\""},
                    {"If-Modified-Since", "x"},
                    {"Range", "bytes=0-1"},
                    {"If-Range", "\"a\""}});
  EXPECT_TRUE(forwarded_fields(r, {}, true).empty());
  EXPECT_EQ(forwarded_fields(r, {}, false).size(), 4u);
}

TEST(ForwardRequest, TheConfiguredStripListIsCaseInsensitive) {
  ForwardPolicy p;
  p.strip = {"X-Secret"};
  auto h = forwarded_fields(request({{"x-secret", "1"}, {"X-Other", "2"}}), p, true);
  EXPECT_EQ(h.get("x-secret"), nullptr);
  EXPECT_EQ(h.get_or("x-other"), "2");
}

TEST(ForwardRequest, ForwardingFieldsAppendToTheIncomingOnes) {
  auto r = request({{"Via", "1.1 edge"},
                    {"X-Forwarded-For", "10.0.0.1"},
                    {"Forwarded", "for=10.0.0.1;proto=https"},
                    {"X-Forwarded-Proto", "https"}});
  http::Headers out;
  add_forwarding_fields(r, "10.0.0.2", false, "shield", {}, out);
  EXPECT_EQ(out.get_or("via"), "1.1 edge, 1.1 shield");
  EXPECT_EQ(out.get_or("x-forwarded-for"), "10.0.0.1, 10.0.0.2");
  EXPECT_EQ(out.get_or("forwarded"), "for=10.0.0.1;proto=https, for=10.0.0.2;proto=http");
  EXPECT_EQ(out.get_or("x-forwarded-proto"), "http");  // not trusted: this hop's scheme
  ForwardPolicy trusting;
  trusting.trust_forwarded_proto = true;
  http::Headers out2;
  add_forwarding_fields(r, "10.0.0.2", false, "shield", trusting, out2);
  EXPECT_EQ(out2.get_or("x-forwarded-proto"), "https");
}

TEST(ForwardRequest, ForwardedQuotesIpv6) {
  http::Headers out;
  add_forwarding_fields(request({}), "::1", true, "edge", {}, out);
  EXPECT_EQ(out.get_or("forwarded"), "for=\"[::1]\";proto=https");
}

TEST(ForwardRequest, WithoutCookieRemovesOnlyTheNamedOne) {
  EXPECT_EQ(without_cookie("a=1; cdn_token=x; b=2", "cdn_token"), "a=1; b=2");
  EXPECT_EQ(without_cookie("cdn_token=x", "cdn_token"), "");
  EXPECT_EQ(without_cookie("CDN_TOKEN=x;a=1", "cdn_token"), "CDN_TOKEN=x; a=1");
}

}  // namespace
}  // namespace cdn::proxy
