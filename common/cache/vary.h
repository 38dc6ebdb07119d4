#pragma once
// Secondary cache keys (RFC 9111 §4.1). A response with Vary is stored under its variant's key:
// the URL's key plus the normalised values, in the request that got it, of the fields Vary names.
// Under the URL's own key the cache keeps a small index object that says which fields to look at
// and which variants exist, so a lookup finds the variant in two steps (memory or disk alike).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cache/key.h"
#include "common/cache/object.h"

namespace cdn::cache {

// A request's combined field value by lower-case name ("" when absent; several lines joined
// with ", ").
using RequestField = std::function<std::string(std::string_view name)>;

// RequestField over any list of {name, value} fields (a request's headers).
template <class Fields>
RequestField fields_of(const Fields& fields) {
  return [&fields](std::string_view name) {
    std::string v;
    for (const auto& x : fields) {
      if (x.name.size() != name.size()) continue;
      bool same = true;
      for (size_t i = 0; i < name.size() && same; ++i)
        same = (x.name[i] | 0x20) == (name[i] | 0x20);
      if (same) v += (v.empty() ? "" : ", ") + x.value;
    }
    return v;
  };
}

// The field names a response's Vary lists, lower-case, sorted and unique, joined with ','
// ("" without Vary). Vary: * is decided before (freshness.h: never stored).
std::string vary_names(const std::vector<StoredHeader>& response_headers);

// The request's part of the variant key for those names: each field's normalised value
// (Accept-Encoding as the sorted set of codings it accepts; other fields with the whitespace
// around list commas removed).
std::string variant_id(std::string_view names, const RequestField& field);

// Never inside a key's URL text (key.h escapes control characters), so variants of a URL share
// the prefix `url_key + kVariantSeparator` and nothing else does.
inline constexpr char kVariantSeparator = '\x1f';
CacheKey variant_key(const CacheKey& url_key, std::string_view names, std::string_view id);

// Whether a request selects the variant stored under `variant_key_text` (true for a key
// without a variant part).
bool variant_matches(std::string_view variant_key_text, const RequestField& field);

// The index object under the URL key.
bool is_vary_index(const ObjectMeta& meta);
std::string index_names(const ObjectMeta& meta);
std::vector<std::string> index_variants(const ObjectMeta& meta);
// An index for `names` listing `variants` (ids), kept at least `lifetime_s` seconds.
ObjectRef make_vary_index(const std::string& url_key_text, const std::string& names,
                          const std::vector<std::string>& variants, int64_t lifetime_s,
                          int64_t now_ms);

}  // namespace cdn::cache
