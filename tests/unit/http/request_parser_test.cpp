#include "common/http/request_parser.h"

#include <gtest/gtest.h>

#include <random>

using cdn::http::ParseLimits;
using cdn::http::RequestParser;

namespace {

struct Outcome {
  int heads = 0, messages = 0, status = 0;
  std::string reason;
  std::string body;
  std::vector<cdn::http::Request> reqs;
};

// Feeds `input` split into pieces of `step` bytes, continuing after each complete message the way
// the server connection does.
Outcome run(const std::string& input, size_t step = 0, ParseLimits limits = {}) {
  RequestParser p(limits);
  Outcome o;
  std::string pending;
  size_t pos = 0;
  if (step == 0) step = input.size();
  while (pos < input.size() || !pending.empty()) {
    if (pending.empty()) {
      pending = input.substr(pos, step);
      pos += pending.size();
    }
    auto st = p.feed(pending.data(), pending.size());
    if (st.head_complete) {
      o.heads++;
      o.reqs.push_back(p.request());
      p.set_body_sink([&o](const char* d, size_t n) { o.body.append(d, n); });
    }
    if (st.error) {
      o.status = p.error_status();
      o.reason = p.error_reason();
      return o;
    }
    pending.erase(0, st.consumed);
    if (st.message_complete) {
      o.messages++;
      p.next();
    }
  }
  return o;
}

TEST(RequestParser, SimpleGet) {
  auto o = run("GET /vod/a.ts?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t\r\n\r\n");
  ASSERT_EQ(o.status, 0) << o.reason;
  ASSERT_EQ(o.messages, 1);
  EXPECT_EQ(o.reqs[0].method, "GET");
  EXPECT_EQ(o.reqs[0].path, "/vod/a.ts");
  EXPECT_EQ(o.reqs[0].query, "x=1");
  EXPECT_EQ(o.reqs[0].host, "example.com");
  EXPECT_TRUE(o.reqs[0].keep_alive);
}

TEST(RequestParser, ByteAtATimeEqualsWhole) {
  std::string in = "GET /a HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(500, 'v') + "\r\n\r\n";
  auto whole = run(in), bytes = run(in, 1);
  ASSERT_EQ(bytes.messages, 1) << bytes.reason;
  EXPECT_EQ(whole.reqs[0].headers.get_or("x-long"), bytes.reqs[0].headers.get_or("x-long"));
}

TEST(RequestParser, PipelinedRequestsComeOutInOrder) {
  auto o = run("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.messages, 3) << o.reason;
  EXPECT_EQ(o.reqs[0].path, "/1");
  EXPECT_EQ(o.reqs[1].path, "/2");
  EXPECT_EQ(o.reqs[2].method, "HEAD");
}

TEST(RequestParser, ChunkedBodyIsDecoded) {
  auto o = run("PUT /ingest/a/b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 3);
  ASSERT_EQ(o.messages, 1) << o.reason;
  EXPECT_EQ(o.body, "hello world");
}

struct BadCase {
  const char* name;
  std::string input;
  int status;
  const char* reason;
};

class BadRequests : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadRequests, RefusedWithSpecificStatus) {
  const auto& c = GetParam();
  for (size_t step : {size_t(0), size_t(1), size_t(7)}) {
    auto o = run(c.input, step);
    EXPECT_EQ(o.status, c.status) << c.name << " step " << step << " reason " << o.reason;
    if (c.reason[0]) {
      EXPECT_EQ(o.reason, c.reason) << c.name << " step " << step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, BadRequests,
    ::testing::Values(
        BadCase{"cl_and_te", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
                "content-length-with-transfer-encoding"},
        BadCase{"duplicate_cl", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400,
                "duplicate-content-length"},
        BadCase{"bare_lf", "GET / HTTP/1.1\nHost: h\n\n", 400, "bare-lf"},
        BadCase{"bare_lf_in_header", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400, "bare-lf"},
        BadCase{"obs_fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold"},
        BadCase{"te_not_chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400, ""},
        BadCase{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "duplicate-host"},
        BadCase{"no_host", "GET / HTTP/1.1\r\n\r\n", 400, "missing-host"},
        BadCase{"garbage_line", "HELLO\r\n\r\n", 400, ""},
        BadCase{"bad_version", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 400, ""},
        BadCase{"absolute_form_without_authority", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400, ""},
        BadCase{"url_too_long", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414, "url-too-long"},
        BadCase{"header_too_large", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431,
                "header-too-large"}));

TEST(RequestParser, AbsoluteFormAuthorityWinsOverHost) {
  auto o = run("GET http://Media.Example:8080/vod/a.ts?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_EQ(o.messages, 1) << o.reason;
  EXPECT_EQ(o.reqs[0].path, "/vod/a.ts");
  EXPECT_EQ(o.reqs[0].query, "x=1");
  EXPECT_EQ(o.reqs[0].host, "media.example");
}

TEST(RequestParser, TooManyHeaders) {
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 150; ++i) in += "X-" + std::to_string(i) + ": v\r\n";
  in += "\r\n";
  auto o = run(in);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(o.reason, "too-many-headers");
}

TEST(RequestParser, RandomSplitsNeverChangeTheResult) {
  std::string in = "GET /a?b=c HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    size_t step = 1 + rng() % 20;
    auto o = run(in, step);
    ASSERT_EQ(o.messages, 2) << "step " << step << " " << o.reason;
    EXPECT_EQ(o.reqs[1].path, "/b");
  }
}

}  // namespace
