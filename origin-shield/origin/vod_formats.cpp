#include "origin-shield/origin/vod_formats.h"

#include "common/util/strings.h"

namespace cdn::origin {

Result<LiveFormats> parse_vod_formats(std::string_view list) {
  LiveFormats f{false, false, false, false, false};
  bool any = false;
  for (auto name : split(list, ',')) {
    if (name == "ts") {
      f.ts = true;
    } else if (name == "fmp4") {
      f.fmp4 = true;
    } else if (name == "dash") {
      f.fmp4 = f.dash = true;
    } else if (name == "llhls" || name == "lldash") {
      return make_error("format-not-for-vod");
    } else {
      return make_error(name.empty() ? "formats-empty" : "unknown-format");
    }
    any = true;
  }
  if (!any) return make_error("formats-empty");
  return f;
}

std::string vod_formats_text(const LiveFormats& f) {
  std::string out;
  for (auto [on, name] : {std::pair{f.ts, "ts"}, {f.fmp4, "fmp4"}, {f.dash, "dash"}})
    if (on) out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

LiveFormats vod_formats_of(const LiveFormats& live) {
  return LiveFormats{live.ts, live.fmp4 || live.dash, false, live.dash, false};
}

}  // namespace cdn::origin
