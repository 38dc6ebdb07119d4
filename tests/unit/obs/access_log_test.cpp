#include "common/obs/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <limits>
#include <thread>

#include "tests/unit/obs/json_check.h"

namespace cdn::obs {
namespace {

using testing::JsonObject;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cdn-obs-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

TEST(AccessRecord, ToJsonIsOneValidLine) {
  AccessRecord r;
  r.ts_ms = 1'795'238'688'123;
  r.client = "203.0.113.7";
  r.method = "GET";
  r.host = "cdn.example.com";
  r.path = "/live/ch1/720p/seg\n\"1\".ts";
  r.protocol = "HTTP/1.1";
  r.cache = "HIT";
  r.upstream = "10.0.0.1:8081";
  r.reason = "";
  r.tier = "edge";
  r.service = "live";
  r.status = 200;
  r.bytes_sent = 1234567;
  r.duration_ms = 12.3456;
  r.user_agent = std::string("Evil\x01\xff\xc3(\0agent", 13);
  std::string line = to_json(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto obj = JsonObject::parse(line);
  ASSERT_TRUE(obj) << line;
  EXPECT_EQ(obj->at("ts"), "2026-11-21T05:24:48.123Z");
  EXPECT_EQ(obj->at("path"), r.path);
  EXPECT_EQ(obj->at("status"), "200");
  EXPECT_EQ(obj->at("bytes_sent"), "1234567");
  EXPECT_EQ(obj->at("duration_ms"), "12.346");
  EXPECT_EQ(obj->at("cache"), "HIT");
  EXPECT_EQ(obj->at("tier"), "edge");
  EXPECT_EQ(obj->at("service"), "live");
  EXPECT_EQ(obj->at("user_agent").substr(0, 5), "Evil\x01");
  EXPECT_EQ(obj->size(), 15u);
  r.duration_ms = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(JsonObject::parse(to_json(r)));
}

TEST(AccessLog, WritesLinesToFile) {
  TempDir dir;
  auto log = AccessLog::open(dir.file("access.log"));
  ASSERT_TRUE(log.ok()) << log.error().message;
  for (int i = 0; i < 100; ++i) (*log)->write("{\"i\":" + std::to_string(i) + "}");
  (*log)->write("already terminated\n");
  (*log)->flush();
  auto lines = split_lines(slurp(dir.file("access.log")));
  ASSERT_EQ(lines.size(), 101u);
  EXPECT_EQ(lines[0], "{\"i\":0}");
  EXPECT_EQ(lines[99], "{\"i\":99}");
  EXPECT_EQ(lines[100], "already terminated");
  EXPECT_EQ((*log)->dropped(), 0u);
}

TEST(AccessLog, DestructorFlushes) {
  TempDir dir;
  {
    auto log = AccessLog::open(dir.file("a.log"));
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 1000; ++i) (*log)->write("line");
  }
  EXPECT_EQ(split_lines(slurp(dir.file("a.log"))).size(), 1000u);
}

TEST(AccessLog, OpenErrorsAndOff) {
  auto bad = AccessLog::open("/nonexistent/dir/access.log");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("/nonexistent/dir/access.log"), std::string::npos);
  auto off = AccessLog::open("off");
  ASSERT_TRUE(off.ok());
  (*off)->write("ignored");
  (*off)->reopen();
  (*off)->flush();
  EXPECT_EQ((*off)->dropped(), 0u);
  EXPECT_TRUE(AccessLog::open("-").ok());
}

TEST(AccessLog, ReopenAfterRename) {
  TempDir dir;
  const std::string path = dir.file("access.log");
  auto log = AccessLog::open(path);
  ASSERT_TRUE(log.ok());
  (*log)->write("before-1");
  (*log)->write("before-2");
  ASSERT_EQ(::rename(path.c_str(), dir.file("access.log.1").c_str()), 0);
  (*log)->reopen();
  (*log)->write("after");
  (*log)->flush();
  EXPECT_EQ(slurp(dir.file("access.log.1")), "before-1\nbefore-2\n");
  EXPECT_EQ(slurp(path), "after\n");
}

// The writer is stuck on a FIFO nobody reads, so the tiny queue fills and lines are dropped.
TEST(AccessLog, DropsWhenQueueIsFull) {
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  auto log = AccessLog::open(fifo, /*max_queue=*/2);
  ASSERT_TRUE(log.ok()) << log.error().message;
  const std::string big(200'000, 'x');  // larger than the pipe buffer: the writer blocks
  const int total = 50;
  for (int i = 0; i < total; ++i) {
    (*log)->write(big);
    if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const uint64_t dropped = (*log)->dropped();
  EXPECT_GE(dropped, uint64_t(total - 3));  // at most: one being written + two queued
  // Drain so the writer can finish, then count what arrived.
  ASSERT_EQ(::fcntl(reader, F_SETFL, 0), 0);
  size_t bytes = 0;
  std::thread drain([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;) bytes += size_t(n);
  });
  log->reset();  // flushes and closes the write end: the reader sees EOF
  drain.join();
  ::close(reader);
  EXPECT_EQ(bytes, (total - dropped) * (big.size() + 1));
}

}  // namespace
}  // namespace cdn::obs
