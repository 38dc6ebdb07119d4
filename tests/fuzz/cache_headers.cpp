// Origin-controlled header values feed these parsers on every miss: no input may crash them.
#include <cstdint>
#include <string_view>

#include "common/cache/freshness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  cdn::cache::parse_cache_control(in);
  int64_t t = cdn::parse_http_date(in);
  if (t >= 0) cdn::format_http_date(t);
  cdn::cache::glob_match(in.substr(0, size / 2), in.substr(size / 2));
  std::vector<cdn::cache::StoredHeader> headers = {{"Cache-Control", std::string(in)},
                                                   {"Expires", std::string(in)},
                                                   {"Last-Modified", std::string(in)},
                                                   {"Date", std::string(in)}};
  cdn::cache::decide_store("GET", "/a.ts", 200, headers, size % 2 == 0, {}, 1'700'000'000);
  return 0;
}
