#pragma once
// Turns one HTTP/2 request header list into the same Request the HTTP/1.1 parser produces: the
// target normalized by the one normalization (request_target.h), the host taken from :authority
// (or Host) through the one authority check (host.h), and the same limits on size and count.
// nghttp2 has already refused what RFC 9113 §8.2-8.3 forbids (connection-specific fields,
// uppercase names, missing or repeated pseudo-fields).
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/http/request_parser.h"

namespace cdn::http {

class H2RequestBuilder {
 public:
  H2RequestBuilder(const ParseLimits& limits, size_t max_header_list_bytes)
      : limits_(limits), max_list_(max_header_list_bytes) {}
  // One field; after the first error the rest are ignored.
  void add(std::string_view name, std::string_view value);
  // The request head is complete. False with error_status()/error_reason() when it is refused.
  bool finish(bool has_body);
  Request& request() { return req_; }
  int error_status() const { return status_; }
  const char* error_reason() const { return reason_; }

 private:
  bool fail(int status, const char* reason);

  ParseLimits limits_;
  size_t max_list_;
  size_t list_bytes_ = 0;
  Request req_;
  std::string authority_, cookie_;
  bool has_authority_ = false;
  int status_ = 0;
  const char* reason_ = "";
};

}  // namespace cdn::http
