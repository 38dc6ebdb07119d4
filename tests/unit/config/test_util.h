#pragma once
// Helpers shared by the config tests: a temporary directory with cert/key files and a vod root.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cdn::config::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cdn-config-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
    std::filesystem::create_directory(path_ + "/vod");
    std::ofstream(path_ + "/cert.pem") << "cert";
    std::ofstream(path_ + "/key.pem") << "key";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Replaces every "@DIR@" in text.
inline std::string with_dir(std::string text, const std::string& dir) {
  for (size_t pos; (pos = text.find("@DIR@")) != std::string::npos;) text.replace(pos, 5, dir);
  return text;
}

inline std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace cdn::config::testing
