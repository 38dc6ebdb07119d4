#include "origin-shield/origin/ingest/stream_target.h"

#include "common/util/strings.h"
#include "common/http/query.h"

namespace cdn::origin::ingest {

namespace {

bool split_resource(std::string_view res, StreamTarget& t) {
  auto slash = res.find('/');
  if (slash == std::string_view::npos) return false;
  t.channel = std::string(res.substr(0, slash));
  t.rendition = std::string(res.substr(slash + 1));
  return !t.channel.empty() && !t.rendition.empty() && t.rendition.find('/') == std::string::npos;
}

bool set_role(std::string_view role, StreamTarget& t) {
  if (role != "primary" && role != "backup") return false;
  t.backup = role == "backup";
  return true;
}

std::optional<StreamTarget> parse_access_control(std::string_view body) {
  StreamTarget t;
  bool have_resource = false;
  for (auto item : split(body, ',')) {
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "r") {
      if (!split_resource(v, t)) return std::nullopt;
      have_resource = true;
    } else if (k == "s") {
      t.key = std::string(v);
    } else if (k == "m") {
      if (v != "publish") return std::nullopt;
    } else if (k == "role") {
      if (!set_role(v, t)) return std::nullopt;
    }  // other standard keys (u, h, t) are ignored
  }
  if (!have_resource) return std::nullopt;
  return t;
}

std::optional<StreamTarget> parse_raw(std::string_view text) {
  if (starts_with(text, "#!::")) return parse_access_control(text.substr(4));
  StreamTarget t;
  auto q = text.find('?');
  if (!split_resource(text.substr(0, q), t)) return std::nullopt;
  if (q == std::string_view::npos) return t;
  std::string value;
  for (const http::QueryParam& p : http::QueryParams(text.substr(q + 1))) {
    if (!p.decoded_value(value)) return std::nullopt;
    if (p.name == "key") t.key = value;
    if (p.name == "role" && !set_role(value, t)) return std::nullopt;
  }
  return t;
}

}  // namespace

std::optional<StreamTarget> parse_stream_target(std::string_view text) {
  // Percent-encoded as a whole (ffmpeg before 6.0 hands an srt:// URL's streamid on verbatim):
  // an encoded '#' or '/' shows it. Decoded once, never twice.
  const bool encoded = starts_with(text, "%23") || (text.find('/') == std::string_view::npos &&
                                                    text.find('%') != std::string_view::npos);
  if (!encoded) return parse_raw(text);
  auto decoded = url_decode(text);
  if (!decoded) return std::nullopt;
  return parse_raw(*decoded);
}

}  // namespace cdn::origin::ingest
