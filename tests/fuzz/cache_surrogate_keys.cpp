// Surrogate-Key and Cache-Tag values come from any upstream: no input may crash the parser, and
// what it keeps stays within its bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/cache/surrogate_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<cdn::cache::StoredHeader> headers = {
      {"Surrogate-Key", std::string(in.substr(0, size / 2))},
      {"Cache-Tag", std::string(in.substr(size / 2))}};
  auto keys = cdn::cache::surrogate_keys(headers);
  if (keys.size() > cdn::cache::kMaxSurrogateKeys) std::abort();
  for (const auto& k : keys)
    if (!cdn::cache::valid_surrogate_key(k)) std::abort();
  return 0;
}
