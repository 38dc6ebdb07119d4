#include "common/hls/rewrite.h"

#include <cstring>

#include "common/hls/attribute_list.h"
#include "common/hls/uri_query.h"

namespace cdn::hls {
namespace {

// Tags whose URI attribute names something the player fetches through this edge.
bool tag_has_fetchable_uri(std::string_view name) {
  static constexpr std::string_view kTags[] = {
      "#EXT-X-MAP",  "#EXT-X-KEY",         "#EXT-X-SESSION-KEY",      "#EXT-X-MEDIA",
      "#EXT-X-PART", "#EXT-X-PRELOAD-HINT", "#EXT-X-RENDITION-REPORT", "#EXT-X-SESSION-DATA",
      "#EXT-X-I-FRAME-STREAM-INF"};
  for (auto t : kTags)
    if (name == t) return true;
  return false;
}

void rewrite_tag(std::string& out, std::string_view line, std::string_view q) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || !tag_has_fetchable_uri(line.substr(0, colon))) {
    out += line;
    return;
  }
  std::string_view attrs = line.substr(colon + 1);
  size_t copied = 0;  // offset in attrs already copied to out
  out += line.substr(0, colon + 1);
  AttributeReader reader(attrs);
  Attribute a;
  while (reader.next(a)) {
    if (a.name != "URI" || !a.quoted) continue;
    out += attrs.substr(copied, a.value_offset - copied);
    append_with_query(out, a.value, q);
    copied = a.value_offset + a.value.size();
  }
  out += attrs.substr(copied);
}

}  // namespace

std::string rewrite_uris(std::string_view pl, std::string_view q) {
  while (!q.empty() && (q.front() == '?' || q.front() == '&')) q.remove_prefix(1);
  if (q.empty()) return std::string(pl);
  std::string out;
  // URI lines are roughly one in two and ~40 bytes: reserve so growth rarely reallocates.
  out.reserve(pl.size() + (pl.size() / 40 + 4) * (q.size() + 1));
  const char* p = pl.data();
  const char* end = p + pl.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    const char* line_end = nl ? nl : end;
    const char* content_end = line_end;
    while (content_end > p &&
           (content_end[-1] == '\r' || content_end[-1] == ' ' || content_end[-1] == '\t'))
      --content_end;
    const char* content_begin = p;
    while (content_begin < content_end && (*content_begin == ' ' || *content_begin == '\t'))
      ++content_begin;
    std::string_view content(content_begin, size_t(content_end - content_begin));
    out.append(p, size_t(content_begin - p));
    if (content.empty()) {
    } else if (content[0] != '#') {
      append_with_query(out, content, q);
    } else if (content.size() > 7 && std::memcmp(content.data(), "#EXT-X-", 7) == 0) {
      rewrite_tag(out, content, q);
    } else {
      out += content;
    }
    out.append(content_end, size_t(line_end - content_end));
    if (!nl) break;
    out += '\n';
    p = nl + 1;
  }
  return out;
}

}  // namespace cdn::hls
