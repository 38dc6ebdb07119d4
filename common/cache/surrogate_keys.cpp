#include "common/cache/surrogate_keys.h"

#include <algorithm>

#include "common/util/strings.h"

namespace cdn::cache {

namespace {

void add_keys(std::string_view value, char separator, std::vector<std::string>& out) {
  while (!value.empty() && out.size() < kMaxSurrogateKeys) {
    size_t end = value.find(separator);
    std::string_view key = trim(value.substr(0, end));
    value = end == std::string_view::npos ? std::string_view() : value.substr(end + 1);
    if (!valid_surrogate_key(key)) continue;
    if (std::find(out.begin(), out.end(), key) == out.end()) out.emplace_back(key);
  }
}

}  // namespace

bool is_surrogate_key_header(std::string_view name) {
  return iequals(name, "surrogate-key") || iequals(name, "cache-tag");
}

bool valid_surrogate_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxSurrogateKeyBytes) return false;
  // Visible ASCII only: keys are matched byte for byte and stored after a NUL separator on disk.
  return std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::vector<std::string> surrogate_keys(const std::vector<StoredHeader>& headers) {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    if (iequals(h.name, "surrogate-key")) {
      // Fastly separates with spaces; a tab is whitespace too.
      std::string v = h.value;
      std::replace(v.begin(), v.end(), '\t', ' ');
      add_keys(v, ' ', out);
    } else if (iequals(h.name, "cache-tag")) {
      add_keys(h.value, ',', out);
    }
  }
  return out;
}

}  // namespace cdn::cache
