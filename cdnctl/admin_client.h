#pragma once
// Blocking HTTP/1.1 client for the admin API: a CLI can wait, a server loop never uses this.
#include <string>

#include "common/util/result.h"

namespace cdn::ctl {

struct AdminResponse {
  int status = 0;
  std::string body;
};

// admin_url: "http://127.0.0.1:9090" (plain HTTP; the admin listener is loopback by default).
// A non-empty `json_body` is sent as application/json.
Result<AdminResponse> admin_request(const std::string& admin_url, const std::string& method,
                                    const std::string& path_and_query, const std::string& token,
                                    const std::string& json_body = {});

}  // namespace cdn::ctl
