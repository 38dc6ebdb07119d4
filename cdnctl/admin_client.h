#pragma once
// The admin API from the command line: one request, waited for (a CLI can wait; a server loop
// never uses this). It runs the servers' own upstream client on a loop of its own, so an
// https:// admin listener is verified and shown a client certificate exactly as a tier's
// upstream is (TLS 1.2+, the CA, the IP or name in the URL, mTLS).
#include <string>

#include "common/config/client_tls.h"
#include "common/util/result.h"

namespace cdn::ctl {

struct AdminResponse {
  int status = 0;
  std::string body;
};

// Which admin listener, how to reach it, and the bearer token for writes.
struct AdminTarget {
  std::string url = "http://127.0.0.1:9090";  // http:// or https://, host:port alone = http://
  std::string token;
  config::ClientTlsConfig tls;  // https:// only: CA (default: the system's), client cert and key

  // From CDN_ADMIN, CDN_ADMIN_TOKEN, CDN_ADMIN_CACERT, CDN_ADMIN_CERT and CDN_ADMIN_KEY.
  static AdminTarget from_env();
  // Takes argv[i] (and its value, advancing i) when it is --admin, --token, --cacert, --cert or
  // --client-key (not --key: `purge --key` names a surrogate key, `channel --key` a stream key).
  bool take_option(int argc, char** argv, int& i);
};

// The lines of usage text for the options take_option() reads.
extern const char* const kAdminOptionsUsage;

// A non-empty `json_body` is sent as application/json. An error (no answer) says what failed,
// and for a refused TLS handshake which side refused what.
Result<AdminResponse> admin_request(const AdminTarget& target, const std::string& method,
                                    const std::string& path_and_query,
                                    const std::string& json_body = {});

}  // namespace cdn::ctl
