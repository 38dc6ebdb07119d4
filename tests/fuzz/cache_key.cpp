// Fuzzes cache key construction with hosts nobody validated: the key text must always split at its
// first '/' into the escaped host and the path, and the host must unescape to itself (lowercased),
// so no host can produce the key of another host and path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/cache/key.h"

namespace {

int hex(char c) {
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - '0';
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) __builtin_trap();
      out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t cut = in.find('\n');
  std::string_view host = in.substr(0, cut);
  std::string path = "/";
  std::string query;
  if (cut != std::string_view::npos) {
    std::string_view rest = in.substr(cut + 1);
    size_t q = rest.find('?');
    path += rest.substr(0, q);
    if (q != std::string_view::npos) query = rest.substr(q + 1);
  }
  auto key = cdn::cache::make_key(host, path, query, {"token"});
  size_t slash = key.text.find('/');
  if (slash == std::string::npos) __builtin_trap();
  std::string lowered(host);
  for (char& c : lowered)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  if (unescape(std::string_view(key.text).substr(0, slash)) != lowered) __builtin_trap();
  if (std::string_view(key.text).substr(slash, path.size()) != path) __builtin_trap();
  if (key.hash != cdn::cache::hash64(key.text)) __builtin_trap();
  return 0;
}
