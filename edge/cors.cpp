#include "edge/cors.h"

#include <algorithm>

namespace cdn::edge {

namespace {
constexpr const char* kExposed = "X-Error-Reason, X-Token-Rejection, X-Cache, Age, Content-Length, Content-Range";
}

Cors::Cors(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool Cors::listed(std::string_view origin) const {
  return !origin.empty() && std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void Cors::echo_origin(std::string_view origin, http::Headers& h) {
  h.set("Access-Control-Allow-Origin", std::string(origin));
  h.set("Access-Control-Allow-Credentials", "true");
  const std::string* vary = h.get("vary");
  if (!vary) h.set("Vary", "Origin");
  else if (vary->find("Origin") == std::string::npos && *vary != "*") h.set("Vary", *vary + ", Origin");
}

void Cors::add_headers(const http::Request& req, http::Headers& h) const {
  if (origins_.empty()) return;
  std::string_view origin = req.headers.get_or("origin");
  bool credentials = !origin.empty() && req.headers.get("cookie") != nullptr;
  if (listed(origin) || (any_ && credentials)) {
    echo_origin(origin, h);
  } else if (any_) {
    h.set("Access-Control-Allow-Origin", "*");
  } else {
    return;
  }
  h.set("Access-Control-Expose-Headers", kExposed);
}

http::Headers Cors::preflight(const http::Request& req, const std::string& methods) const {
  http::Headers h;
  std::string_view origin = req.headers.get_or("origin");
  // The real request may be credentialed (cookie token), so a permitted origin is echoed.
  if (listed(origin) || (any_ && !origin.empty())) {
    echo_origin(origin, h);
  } else if (any_) {
    h.set("Access-Control-Allow-Origin", "*");
  } else {
    return h;  // not allowed: no CORS headers, the browser blocks the request
  }
  h.set("Access-Control-Allow-Methods",
        methods.find("OPTIONS") == std::string::npos ? methods + ", OPTIONS" : methods);
  std::string_view asked = req.headers.get_or("access-control-request-headers");
  h.set("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Range" : std::string(asked));
  h.set("Access-Control-Max-Age", "600");
  return h;
}

}  // namespace cdn::edge
