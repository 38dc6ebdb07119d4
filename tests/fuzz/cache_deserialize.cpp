// Arbitrary bytes from disk must decode to an error or to an object that re-encodes identically.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/cache/object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto obj = cdn::cache::deserialize(in);
  cdn::cache::peek_expires_at_s(in);
  if (obj) {
    auto again = cdn::cache::deserialize(cdn::cache::serialize(obj.value()));
    if (!again || again->body.flatten() != obj->body.flatten()) std::abort();
  }
  return 0;
}
