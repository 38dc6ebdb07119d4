#include "common/http/conditional.h"

#include <optional>

#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::http {

namespace {

struct EntityTag {
  std::string_view opaque;  // with its quotes
  bool weak = false;
};

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
// The weak indicator is case-sensitive; a ',' inside the quotes is part of the tag. Reads one
// tag at pos; nullopt when what is there is not one (an unquoted or malformed tag never matches).
std::optional<EntityTag> read_entity_tag(std::string_view s, size_t& pos) {
  EntityTag t;
  if (s.substr(pos, 2) == "W/") {
    t.weak = true;
    pos += 2;
  }
  if (pos >= s.size() || s[pos] != '"') return std::nullopt;
  size_t start = pos++;
  while (pos < s.size() && s[pos] != '"') {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x21 || c == 0x7f) return std::nullopt;
    ++pos;
  }
  if (pos >= s.size()) return std::nullopt;
  ++pos;
  t.opaque = s.substr(start, pos - start);
  return t;
}

void skip_ows(std::string_view s, size_t& pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
}

}  // namespace

bool etag_list_matches(std::string_view list, std::string_view etag) {
  etag = trim(etag);
  if (etag.empty()) return false;
  if (trim(list) == "*") return true;  // any current representation
  size_t at = 0;
  auto stored = read_entity_tag(etag, at);
  if (!stored || at != etag.size()) return false;  // not a valid validator: nothing matches it
  // RFC 9110 §13.1.2: If-None-Match uses the weak comparison (§8.8.3.2).
  size_t pos = 0;
  while (pos < list.size()) {
    skip_ows(list, pos);
    if (pos < list.size() && list[pos] == ',') {  // empty list elements are allowed (§5.6.1)
      ++pos;
      continue;
    }
    if (pos >= list.size()) break;
    auto t = read_entity_tag(list, pos);
    if (!t) return false;  // a malformed field is not a condition the representation meets
    if (t->opaque == stored->opaque) return true;
    skip_ows(list, pos);
    if (pos < list.size() && list[pos] != ',') return false;
  }
  return false;
}

bool not_modified(const Request& req, std::string_view etag, int64_t last_modified_s) {
  if (auto* inm = req.headers.get("if-none-match")) return etag_list_matches(*inm, etag);
  if (auto* ims = req.headers.get("if-modified-since"); ims && last_modified_s >= 0) {
    int64_t since = parse_http_date(*ims);
    return since >= 0 && last_modified_s <= since;
  }
  return false;
}

}  // namespace cdn::http
