#include "tests/unit/live/media_fixture.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace cdn::live::testing {
namespace {

constexpr const char* kVideo =
    "-f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=48000 ";
constexpr const char* kX264 =
    "-pix_fmt yuv420p -c:v libx264 -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 -c:a aac -b:a 64k ";

std::string command_for(Clip clip, const std::string& out) {
  std::string base = "ffmpeg -nostdin -y -loglevel error ";
  switch (clip) {
    case Clip::kH264Aac10s:
      return base + kVideo + kX264 + "-t 10 -f mpegts " + out;
    case Clip::kH264Aac4sB:
      return base + "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i "
                    "sine=frequency=500:sample_rate=48000 " +
             kX264 + "-t 4 -f mpegts " + out;
    case Clip::kH264Wrap8s:
      return base + kVideo + kX264 + "-t 8 -output_ts_offset 95440 -f mpegts " + out;
    case Clip::kHevcAac4s:
      return base + kVideo +
             "-pix_fmt yuv420p -c:v libx265 -preset ultrafast -x265-params "
             "keyint=50:min-keyint=50:scenecut=0:log-level=error -c:a aac -t 4 -f mpegts " +
             out;
    case Clip::kAacOnly6s:
      return base + "-f lavfi -i sine=frequency=1000:sample_rate=48000 -c:a aac -t 6 -f mpegts " +
             out;
  }
  return "";
}

}  // namespace

// Removed at exit so repeated runs do not fill /tmp.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cdn-live-test-XXXXXX";
    if (const char* d = mkdtemp(tmpl)) path = d;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

std::string temp_dir() {
  static TempDir dir;
  return dir.path.empty() ? "/tmp" : dir.path;
}

std::string run(const std::string& command, bool* ok) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) {
    if (ok) *ok = false;
    return out;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  if (ok) *ok = status == 0;
  return out;
}

const std::string& clip_path(Clip clip) {
  static std::mutex mu;
  static std::map<Clip, std::string> paths;
  std::lock_guard lock(mu);
  auto it = paths.find(clip);
  if (it != paths.end()) return it->second;
  std::string path = temp_dir() + "/clip" + std::to_string(int(clip)) + ".ts";
  bool ok = false;
  run(command_for(clip, path) + " 2>&1", &ok);
  return paths[clip] = ok ? path : "";
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), std::streamsize(data.size()));
}

}  // namespace cdn::live::testing
