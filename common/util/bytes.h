#pragma once
// Refcounted immutable byte blocks: bodies move from upstream socket to cache to every viewer's
// socket by sharing these, never by copying.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cdn {

using Bytes = std::shared_ptr<const std::string>;

inline Bytes make_bytes(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
inline Bytes make_bytes(std::string_view s) {
  return std::make_shared<const std::string>(s.data(), s.size());
}

// A body as an ordered list of blocks (as it arrived from upstream).
struct Body {
  std::vector<Bytes> chunks;
  size_t size = 0;
  void append(Bytes b) {
    size += b->size();
    chunks.push_back(std::move(b));
  }
  std::string flatten() const {
    std::string out;
    out.reserve(size);
    for (auto& c : chunks) out += *c;
    return out;
  }
};

}  // namespace cdn
