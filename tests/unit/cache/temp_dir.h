#pragma once
// A scratch directory under /tmp, removed with everything in it when the test ends.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace cdn::cache::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/cdn-cache-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cdn::cache::testing
