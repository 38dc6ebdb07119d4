#include "edge/edge_phases.h"

#include "common/util/strings.h"

namespace cdn::edge {

std::string EdgePhases::upstream_query(const http::Request& req) {
  if (req.query.empty()) return {};
  std::string out;
  for (auto part : split(req.query, '&')) {
    auto name = part.substr(0, part.find('='));
    if (part.empty() || name == token_param_ || name == "URISigningPackage") continue;
    if (!out.empty()) out += '&';
    out += part;
  }
  return out;
}

}  // namespace cdn::edge
