#include "common/obs/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "tests/unit/obs/json_check.h"

namespace cdn::obs {
namespace {

using testing::JsonObject;

TEST(JsonEscape, QuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_escape("plain"), "plain");
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(json_escape(std::string("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
}

TEST(JsonEscape, KeepsValidUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(json_escape("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"), "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(json_escape("\xff"), "\\u00ff");
  EXPECT_EQ(json_escape("\xc3"), "\\u00c3");                     // truncated
  EXPECT_EQ(json_escape("\xc0\xaf"), "\\u00c0\\u00af");          // overlong '/'
  EXPECT_EQ(json_escape("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");  // surrogate
  EXPECT_EQ(json_escape("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080");  // > U+10FFFF
  EXPECT_EQ(json_escape("\xe2\x82x"), "\\u00e2\\u0082x");
}

TEST(JsonEscape, EveryByteStringGivesValidJson) {
  // All single bytes and all byte pairs, plus some longer random strings.
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  std::vector<std::string> inputs{all};
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; b += 7) inputs.push_back(std::string{char(a), char(b)});
  uint32_t seed = 1;
  for (int n = 0; n < 2000; ++n) {
    std::string s;
    for (int i = 0; i < 12; ++i) s += char((seed = seed * 1103515245 + 12345) >> 16);
    inputs.push_back(s);
  }
  for (const auto& in : inputs) {
    std::string doc = "{\"v\":";
    append_json_string(doc, in);
    doc += "}";
    auto parsed = JsonObject::parse(doc);
    ASSERT_TRUE(parsed) << doc;
  }
  // Valid UTF-8 survives the round trip unchanged.
  auto p = JsonObject::parse("{\"v\":\"" + json_escape("x\"\n\xc3\xa9\t\\") + "\"}");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->at("v"), "x\"\n\xc3\xa9\t\\");
}

TEST(Log, Rfc3339) {
  EXPECT_EQ(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_ms(1'795'238'688'123), "2026-11-21T05:24:48.123Z");
  EXPECT_EQ(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Log, LineFormat) {
  std::string line = format_log_line(1'795'238'688'123, Level::Warn, "upstream \"down\"\n",
                                     {{"addr", "10.0.0.1:80"}, {"bad", "\xff\x01"}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto obj = JsonObject::parse(line);
  ASSERT_TRUE(obj) << line;
  EXPECT_EQ(obj->at("ts"), "2026-11-21T05:24:48.123Z");
  EXPECT_EQ(obj->at("level"), "warn");
  EXPECT_EQ(obj->at("msg"), "upstream \"down\"\n");
  EXPECT_EQ(obj->at("addr"), "10.0.0.1:80");
  EXPECT_EQ(obj->at("bad"), "\xc3\xbf\x01");  // the byte 0xff became U+00FF
  EXPECT_EQ(line.rfind("{\"ts\":\"2026-11-21T05:24:48.123Z\",\"level\":\"warn\",\"msg\":", 0), 0u);
}

TEST(Log, Levels) {
  EXPECT_EQ(parse_level("debug"), Level::Debug);
  EXPECT_EQ(parse_level("error"), Level::Error);
  EXPECT_FALSE(parse_level("verbose"));
  EXPECT_EQ(level_name(Level::Info), "info");
}

// Captures log() output through a pipe.
class LogCapture {
 public:
  LogCapture() {
    EXPECT_EQ(::pipe(fds_), 0);
    set_log_fd(fds_[1]);
  }
  ~LogCapture() {
    set_log_fd(2);
    ::close(fds_[0]);
  }
  std::string finish() {
    set_log_fd(2);
    ::close(fds_[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds_[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    return out;
  }

 private:
  int fds_[2];
};

TEST(Log, FiltersByLevelAndWritesWholeLinesFromManyThreads) {
  LogCapture cap;
  set_log_level(Level::Info);
  log(Level::Debug, "hidden");
  EXPECT_FALSE(log_enabled(Level::Debug));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 50; ++i)
        log(Level::Info, "hello", {{"thread", std::to_string(t)}, {"i", std::to_string(i)}});
    });
  for (auto& t : threads) t.join();
  set_log_level(Level::Debug);
  log(Level::Debug, "shown");
  set_log_level(Level::Info);
  std::string out = cap.finish();
  size_t count = 0, pos = 0;
  bool saw_shown = false;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    auto obj = JsonObject::parse(out.substr(pos, nl - pos));
    ASSERT_TRUE(obj) << out.substr(pos, nl - pos);
    EXPECT_NE(obj->at("msg"), "hidden");
    saw_shown = saw_shown || obj->at("msg") == "shown";
    ++count;
    pos = nl + 1;
  }
  EXPECT_EQ(count, 201u);
  EXPECT_TRUE(saw_shown);
}

}  // namespace
}  // namespace cdn::obs
