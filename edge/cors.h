#pragma once
// CORS for browser players (Fetch standard §3.2), on every edge response, errors included.
#include <string>
#include <vector>

#include "common/http/message.h"

namespace cdn::edge {

class Cors {
 public:
  // `origins`: "*" allows any origin; otherwise exact origins ("https://player.example").
  // Empty = CORS off (no headers, OPTIONS not answered by the edge).
  explicit Cors(std::vector<std::string> origins);
  bool enabled() const { return !origins_.empty(); }

  // Response headers for a simple (non-preflight) request. With "*" the answer is
  // `Access-Control-Allow-Origin: *`, except when the request carries cookies (the token may be
  // one): then the Origin is echoed with Allow-Credentials, since browsers refuse "*" there.
  // A listed origin is always echoed with credentials allowed.
  void add_headers(const http::Request& req, http::Headers& h) const;
  // The 204 answer to an OPTIONS preflight (no token needed: browsers never send one);
  // `methods`: what the edge passes for the path (proxy.methods).
  http::Headers preflight(const http::Request& req, const std::string& methods) const;

 private:
  bool listed(std::string_view origin) const;
  static void echo_origin(std::string_view origin, http::Headers& h);

  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace cdn::edge
