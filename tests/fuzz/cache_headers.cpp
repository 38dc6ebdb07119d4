// Origin-controlled header values feed these parsers on every miss: no input may crash them.
#include <cstdint>
#include <string_view>

#include "common/cache/freshness.h"
#include "common/cache/vary.h"

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
  // RFC 9213 targeted fields (Structured Fields) and Vary (secondary keys).
  cdn::cache::parse_targeted_cache_control(in);
  cdn::cache::FreshnessPolicy targeted;
  targeted.targeted_fields = {"CDN-Cache-Control"};
  headers.push_back({"CDN-Cache-Control", std::string(in)});
  headers.push_back({"Vary", std::string(in)});
  cdn::cache::decide_store("GET", "/a.ts", 200, headers, false, targeted, 1'700'000'000);
  std::string names = cdn::cache::vary_names(headers);
  std::string id = cdn::cache::variant_id(names, cdn::cache::fields_of(headers));
  cdn::cache::CacheKey url{"h/a", 1};
  if (!cdn::cache::variant_matches(cdn::cache::variant_key(url, names, id).text,
                                   cdn::cache::fields_of(headers)))
    __builtin_trap();  // a request always selects the variant its own fields made
  return 0;
}
