// proxy section: HTTP semantics of the caching proxy beyond storage (issue 17).
#include "common/config/sections.h"

namespace cdn::config::sections {

void read_proxy(MapReader& m, ProxyConfig& out) {
  set(out.strip_request_headers, m.get_string_list("strip_request_headers"));
  for (const auto& name : out.strip_request_headers)
    if (name.empty() || name.find_first_of(" \t:\r\n") != std::string::npos)
      m.error("strip_request_headers", "not a header field name: \"" + name + "\"");
  if (auto d = m.get_enum("request_directives", {"ignore", "honour"}))
    out.honour_request_directives = *d == "honour";
  set(out.revalidate_interval_ms, m.get_duration_ms("revalidate_interval", 0, 86'400'000));
  if (m.has("methods")) {
    out.methods.clear();
    for (MapReader& r : m.get_maps("methods")) {
      auto match = r.get_string(required("match"), false);
      auto allow = r.get_string_list(required("allow"));
      if (allow)
        for (const auto& method : *allow)
          if (method.empty() ||
              method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
            r.error("allow", "not an upper-case method name: \"" + method + "\"");
      r.finish();
      if (match && allow) out.methods.push_back({*match, *allow});
    }
  }
}

}  // namespace cdn::config::sections
