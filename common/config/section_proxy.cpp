// proxy section: HTTP semantics of the caching proxy beyond storage (issue 17).
#include "common/config/sections.h"

namespace cdn::config::sections {

void read_proxy(MapReader& m, ProxyConfig& out) {
  set(out.strip_request_headers, m.get_string_list("strip_request_headers"));
  for (const auto& name : out.strip_request_headers)
    if (name.empty() || name.find_first_of(" \t:\r\n") != std::string::npos)
      m.error("strip_request_headers", "not a header field name: \"" + name + "\"");
}

}  // namespace cdn::config::sections
