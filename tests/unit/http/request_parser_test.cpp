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

// Feeds `parts` one after another, continuing after each complete message the way the server
// connection does (unconsumed bytes are fed again, joined with the next part).
Outcome run_parts(const std::vector<std::string>& parts, ParseLimits limits = {}) {
  RequestParser p(limits);
  Outcome o;
  std::string pending;
  size_t next_part = 0;
  while (next_part < parts.size() || !pending.empty()) {
    if (pending.empty()) pending = parts[next_part++];
    if (pending.empty()) continue;
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
    } else if (!pending.empty() && next_part < parts.size()) {
      pending += parts[next_part++];  // the parser wants more bytes than it was given
    } else if (!pending.empty()) {
      break;
    }
  }
  return o;
}

// Feeds `input` split into pieces of `step` bytes (0: all at once).
Outcome run(const std::string& input, size_t step = 0, ParseLimits limits = {}) {
  std::vector<std::string> parts;
  if (step == 0) step = std::max<size_t>(input.size(), 1);
  for (size_t pos = 0; pos < input.size(); pos += step) parts.push_back(input.substr(pos, step));
  return run_parts(parts, limits);
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

// Names the ctest entries by case instead of gtest's byte dump of the struct.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }
std::string case_name(const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; }

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
        BadCase{"header_too_large", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(8000, 'a') + "\r\nY: " +
                                        std::string(8000, 'a') + "\r\nZ: " + std::string(8000, 'a') + "\r\n\r\n",
                431, "header-too-large"},
        BadCase{"value_too_large", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431,
                "field-too-large"},
        BadCase{"name_too_large", "GET / HTTP/1.1\r\nHost: h\r\n" + std::string(9000, 'n') + ": v\r\n\r\n", 431,
                "field-too-large"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    FieldGrammar, BadRequests,
    ::testing::Values(BadCase{"empty_name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400, "bad-header-name"},
                      BadCase{"space_in_name", "GET / HTTP/1.1\r\nHost: h\r\nX Y: v\r\n\r\n", 400, "bad-header-name"},
                      BadCase{"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "bad-header-name"},
                      BadCase{"ctl_in_name", "GET / HTTP/1.1\r\nHost: h\r\nX\x01: v\r\n\r\n", 400, "bad-header-name"},
                      BadCase{"utf8_in_name", "GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n", 400,
                              "bad-header-name"},
                      BadCase{"line_without_colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400,
                              "bad-header-name"},
                      BadCase{"nul_in_value", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 34), 400,
                              "bad-header-value"},
                      BadCase{"del_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400, "bad-header-value"},
                      BadCase{"ctl_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[0m\r\n\r\n", 400,
                              "bad-header-value"},
                      BadCase{"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400,
                              "bad-header-value"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    HostAndTarget, BadRequests,
    ::testing::Values(
        BadCase{"host_with_path", "GET /vod/free/ep1.ts HTTP/1.1\r\nHost: 127.0.0.1/vod/premium\r\n\r\n", 400, "bad-host"},
        BadCase{"host_with_query", "GET / HTTP/1.1\r\nHost: h?x\r\n\r\n", 400, "bad-host"},
        BadCase{"host_with_userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 400, "bad-host"},
        BadCase{"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "bad-host"},
        BadCase{"port_without_host", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, "bad-host"},
        BadCase{"port_not_digits", "GET / HTTP/1.1\r\nHost: h:8o\r\n\r\n", 400, "bad-host"},
        BadCase{"absolute_form_userinfo", "GET http://u@h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-host"},
        BadCase{"absolute_form_bad_host", "GET http://h%/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-host"},
        BadCase{"bad_host_header_beside_absolute_form", "GET http://h/x HTTP/1.1\r\nHost: a/b\r\n\r\n", 400,
                "bad-host"},
        BadCase{"utf8_in_target", "GET /a\xff HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-request-target"},
        BadCase{"del_in_target", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, ""},
        BadCase{"space_in_target", "GET /vod/a b.ts HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-request-target"},
        BadCase{"backslash_in_target", "GET /a\\b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-request-target"},
        BadCase{"fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-request-target"},
        BadCase{"bad_escape", "GET /%G1 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad-request-target"},
        BadCase{"encoded_nul", "GET /a%00.ts HTTP/1.1\r\nHost: h\r\n\r\n", 400, "encoded-nul"},
        BadCase{"encoded_slash", "GET /vod/free/..%2fpremium/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "encoded-slash"},
        BadCase{"encoded_backslash", "GET /a%5cb HTTP/1.1\r\nHost: h\r\n\r\n", 400, "encoded-slash"}),
    case_name);

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

TEST(RequestParser, TabInTargetIsRefused) {
  auto o = run("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.status, 400) << o.reason;
  EXPECT_EQ(o.messages, 0);
}

// The one request `in` holds; a test failure when it is not exactly one accepted request.
cdn::http::Request only_request(const std::string& in, ParseLimits limits = {}) {
  auto o = run(in, 0, limits);
  if (o.messages != 1 || o.reqs.size() != 1) {
    ADD_FAILURE() << "not one request: " << in << " -> " << o.status << " " << o.reason;
    return {};
  }
  return o.reqs[0];
}

TEST(RequestParser, TargetIsNormalizedOnce) {
  auto r = only_request("GET //vod/./%76od/../x%2e%74s?a=%7e&b=%2f HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/vod/x.ts");
  EXPECT_EQ(r.query, "a=~&b=%2F");
  EXPECT_EQ(r.target, "/vod/x.ts?a=~&b=%2F");
}

TEST(RequestParser, EscapedSlashesKeptWhenConfigured) {
  ParseLimits keep;
  keep.escaped_slashes = cdn::http::EscapedSlashes::Keep;
  EXPECT_EQ(only_request("GET /bucket/a%2fb/../c HTTP/1.1\r\nHost: h\r\n\r\n", keep).path, "/bucket/c");
  EXPECT_EQ(only_request("GET /bucket/a%2fb HTTP/1.1\r\nHost: h\r\n\r\n", keep).path, "/bucket/a%2Fb");
}

TEST(RequestParser, OptionsStarAndAbsoluteFormStillWork) {
  EXPECT_EQ(only_request("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").path, "*");
  auto r = only_request("GET http://[::1]:8080//vod/../a.ts HTTP/1.1\r\nHost: other\r\n\r\n");
  EXPECT_EQ(r.host, "[::1]");
  EXPECT_EQ(r.path, "/a.ts");
  EXPECT_EQ(only_request("GET http://h?x=1 HTTP/1.1\r\n\r\n").target, "/?x=1");
}

TEST(RequestParser, FieldJustInsideItsCapIsAccepted) {
  auto r = only_request("GET / HTTP/1.1\r\nHost: h\r\nX:  " + std::string(8192, 'v') + "\r\n\r\n");
  EXPECT_EQ(r.headers.get_or("x").size(), 8192u);
}

// Leading empty lines (RFC 9112 §2.2) must not end the head early: every rule still holds after
// them, at every split point of the input and byte by byte, for the first request and for the next
// pipelined one.
struct SplitCase {
  const char* name;
  std::string input;
  int messages;  // when accepted
  int status;
  const char* reason;
};

std::string head_prefix(size_t leading) {
  std::string s;
  for (size_t i = 0; i < leading; ++i) s += "\r\n";
  return s;
}

std::vector<SplitCase> split_cases() {
  const std::string req = "GET /a HTTP/1.1\r\nHost: h\r\n";
  std::string big;  // 18 fields of 150 bytes: over the head limit of small_limits(), each under its field cap
  for (int i = 0; i < 18; ++i) big += "X-" + std::to_string(i) + ": " + std::string(150, 'v') + "\r\n";
  return {
      {"accepted", head_prefix(2) + req + "\r\n", 1, 0, ""},
      {"accepted_then_pipelined", head_prefix(1) + req + "\r\n" + head_prefix(3) + req + "\r\n", 2, 0, ""},
      {"obs_fold", head_prefix(2) + req + "X: a\r\n b\r\n\r\n", 0, 400, "obs-fold"},
      {"obs_fold_first_line", head_prefix(2) + "GET /a HTTP/1.1\r\n b\r\nHost: h\r\n\r\n", 0, 400, "obs-fold"},
      {"cr_lf_lf", head_prefix(2) + req + "\n", 0, 400, "bare-lf"},
      {"value_cr_lf_lf", head_prefix(2) + "GET /a HTTP/1.1\r\nHost: h\r\n\n", 0, 400, "bare-lf"},
      {"bare_lf_leading", "\r\n\n" + req + "\r\n", 0, 400, "bare-lf"},
      {"bare_cr_leading", "\r\r\n" + req + "\r\n", 0, 400, "malformed-request"},
      {"head_too_large", head_prefix(2) + req + big + "\r\n", 0, 431, "header-too-large"},
      {"head_too_large_unfinished", head_prefix(2) + req + big, 0, 431, "header-too-large"},
      {"value_too_large", head_prefix(2) + req + "X: " + std::string(600, 'v'), 0, 431, "field-too-large"},
      {"pipelined_obs_fold", req + "\r\n" + head_prefix(2) + req + "X: a\r\n\tb\r\n\r\n", 1, 400, "obs-fold"},
      {"pipelined_cr_lf_lf", req + "\r\n" + head_prefix(2) + req + "\n", 1, 400, "bare-lf"},
      {"pipelined_too_large", req + "\r\n" + head_prefix(2) + req + big, 1, 431, "header-too-large"},
  };
}

// Small limits keep "every split point" quick: each split parses the whole input again.
ParseLimits small_limits() {
  ParseLimits l;
  l.max_url_bytes = 256;
  l.max_header_bytes = 2048;
  l.max_field_bytes = 512;
  return l;
}

void expect_outcome(const SplitCase& c, const Outcome& o, const std::string& how) {
  EXPECT_EQ(o.status, c.status) << c.name << " " << how << " reason " << o.reason;
  EXPECT_EQ(o.reason, c.reason) << c.name << " " << how;
  EXPECT_EQ(o.messages, c.messages) << c.name << " " << how;
  for (const auto& r : o.reqs) EXPECT_EQ(r.path, "/a") << c.name << " " << how;
}

TEST(RequestParser, LeadingEmptyLinesAtEverySplitPoint) {
  for (const auto& c : split_cases()) {
    expect_outcome(c, run(c.input, 0, small_limits()), "whole");
    expect_outcome(c, run(c.input, 1, small_limits()), "byte by byte");
    for (size_t i = 0; i <= c.input.size(); ++i) {
      expect_outcome(c, run_parts({c.input.substr(0, i), c.input.substr(i)}, small_limits()),
                     "split at " + std::to_string(i));
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// A head that never ends is refused once it passes the limit, however it was introduced.
TEST(RequestParser, UnendingHeadIsRefusedAtTheLimit) {
  for (size_t leading : {size_t(0), size_t(1), size_t(2), size_t(100)}) {
    RequestParser p({});
    std::string start = head_prefix(leading) + "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    auto st = p.feed(start.data(), start.size());
    ASSERT_FALSE(st.error) << p.error_reason();
    std::string chunk(4096, 'v');
    size_t fed = start.size();
    while (!st.error && fed < (64u << 20)) {
      st = p.feed(chunk.data(), chunk.size());
      fed += chunk.size();
    }
    EXPECT_TRUE(st.error);
    EXPECT_EQ(p.error_status(), 431);
    EXPECT_LE(fed, 8192u + start.size() + chunk.size()) << "leading " << leading;
  }
}

// Trailers are parsed after the scanner has let the head through: the parser's own count of head
// bytes still bounds them.
TEST(RequestParser, TrailersCountTowardsTheHeadLimit) {
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
  for (int i = 0; i < 20; ++i) in += "T" + std::to_string(i) + ": " + std::string(1000, 't') + "\r\n";
  in += "\r\n";
  auto o = run(in, 512);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(o.reason, "header-too-large");
}

}  // namespace
