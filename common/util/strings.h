#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdn {

// ASCII case-insensitive equality; inline because header lookups call it for every header.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
  }
  return true;
}
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
std::optional<int64_t> parse_int(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
// RFC 3986 percent-encoding of everything but unreserved characters (safe in any query value).
std::string percent_encode(std::string_view s);
// XML text and attribute values: & < > " ' as entities. `double_dollars`: '$' as "$$", for the
// attributes of a DASH SegmentTemplate, where '$' starts an identifier (ISO/IEC 23009-1 5.3.9.4.4).
std::string xml_escape(std::string_view s, bool double_dollars = false);
// Percent-decoding ('+' is a space, as in form-encoded queries); nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view s);
// The same into `out` (its contents replaced, its capacity reused); false on a malformed escape,
// leaving unspecified bytes in `out`.
bool url_decode_into(std::string_view s, std::string& out);

}  // namespace cdn
