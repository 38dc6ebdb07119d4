#include "common/cache/vary.h"

#include <algorithm>
#include <cctype>

#include "common/util/strings.h"

namespace cdn::cache {

namespace {

constexpr std::string_view kIndexField = "cdn-vary-index";
constexpr std::string_view kVariantsField = "cdn-vary-variants";
// Between values inside one id and between ids in the index: request field values never carry
// control characters (the parser refuses them), so this cannot be forged by a client.
constexpr char kValueSeparator = '\x1e';
constexpr char kIdSeparator = '\x1d';  // between the ids the index lists

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// RFC 9110 §12.5.3: the codings with a non-zero weight, so "gzip, br" and "br;q=1,gzip" select
// the same stored variant.
std::string normalise_accept_encoding(std::string_view value) {
  std::vector<std::string> codings;
  for (std::string_view item : split(value, ',')) {
    auto parts = split(item, ';');
    if (parts.empty()) continue;
    std::string coding = to_lower(trim(parts[0]));
    if (coding.empty()) continue;
    bool refused = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = trim(parts[i]);
      if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        std::string_view q = trim(p.substr(2));
        refused = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (!refused) codings.push_back(std::move(coding));
  }
  return join(sorted_unique(std::move(codings)), ',');
}

std::string normalise_list(std::string_view value) {
  std::string out;
  for (std::string_view item : split(value, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

const std::string* field(const ObjectMeta& meta, std::string_view name) {
  for (const auto& h : meta.headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

}  // namespace

std::string vary_names(const std::vector<StoredHeader>& response_headers) {
  std::vector<std::string> names;
  for (const auto& h : response_headers) {
    if (!iequals(h.name, "vary")) continue;
    for (std::string_view n : split(h.value, ',')) {
      n = trim(n);
      // field-name = token (RFC 9110 §5.1): anything else names no request field, and must not
      // reach the key's structure.
      bool token = !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      });
      if (token) names.push_back(to_lower(n));
    }
  }
  return join(sorted_unique(std::move(names)), ',');
}

std::string variant_id(std::string_view names, const RequestField& get) {
  std::string id;
  for (std::string_view name : split(names, ',')) {
    if (!id.empty()) id += kValueSeparator;
    std::string value = get(name);
    id += name == "accept-encoding" ? normalise_accept_encoding(value) : normalise_list(value);
  }
  return id;
}

CacheKey variant_key(const CacheKey& url_key, std::string_view names, std::string_view id) {
  CacheKey k;
  k.text.reserve(url_key.text.size() + names.size() + id.size() + 2);
  k.text += url_key.text;
  k.text += kVariantSeparator;
  k.text += names;
  k.text += kVariantSeparator;
  k.text += id;
  k.hash = hash64(k.text);
  return k;
}

bool variant_matches(std::string_view variant_key_text, const RequestField& get) {
  size_t a = variant_key_text.find(kVariantSeparator);
  if (a == std::string_view::npos) return true;  // not a variant
  size_t b = variant_key_text.find(kVariantSeparator, a + 1);
  if (b == std::string_view::npos) return false;
  std::string_view names = variant_key_text.substr(a + 1, b - a - 1);
  return variant_key_text.substr(b + 1) == variant_id(names, get);
}

bool is_vary_index(const ObjectMeta& meta) {
  return field(meta, kIndexField) != nullptr;
}

std::string index_names(const ObjectMeta& meta) {
  const std::string* v = field(meta, kIndexField);
  return v ? *v : std::string();
}

std::vector<std::string> index_variants(const ObjectMeta& meta) {
  // Each id is written after a separator, so an empty id (the field absent) is one too.
  std::vector<std::string> out;
  const std::string* v = field(meta, kVariantsField);
  if (!v || v->empty()) return out;
  size_t start = 1;
  for (size_t i = 1; i <= v->size(); ++i) {
    if (i == v->size() || (*v)[i] == kIdSeparator) {
      out.push_back(v->substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

ObjectRef make_vary_index(const std::string& url_key_text, const std::string& names,
                          const std::vector<std::string>& variants, int64_t lifetime_s,
                          int64_t now_ms) {
  auto obj = std::make_shared<CachedObject>();
  obj->key_text = url_key_text;
  obj->meta.status = 200;
  obj->meta.request_time_ms = obj->meta.response_time_ms = now_ms;
  obj->meta.date_s = now_ms / 1000;
  obj->meta.fresh_lifetime_s = lifetime_s;
  std::string ids;
  for (const auto& id : variants) (ids += kIdSeparator) += id;
  obj->meta.headers = {{std::string(kIndexField), names},
                       {std::string(kVariantsField), std::move(ids)}};
  return obj;
}

}  // namespace cdn::cache
