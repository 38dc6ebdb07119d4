#pragma once
// What of a client's request goes upstream (RFC 9110 §7.6, RFC 7239): its end-to-end fields,
// without hop-by-hop ones, without what the tiers rebuild per hop (Host, framing, Via and the
// forwarding fields), and without what a shared fill must not carry (the cache's own validators
// and ranges decide those).
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"

namespace cdn::proxy {

struct ForwardPolicy {
  std::vector<std::string> strip;  // proxy.strip_request_headers
  // The shield keeps the X-Forwarded-Proto its edge set; an edge sets its own (a viewer's
  // claim about the scheme it used is not believed).
  bool trust_forwarded_proto = false;
};

// The client's fields to forward. `cache_fill`: the request fills the shared cache, so its
// conditionals and Range stay at this tier.
http::Headers forwarded_fields(const http::Request& req, const ForwardPolicy& policy,
                               bool cache_fill);

// The per-hop fields this tier adds for the client it serves: Via, X-Forwarded-For, Forwarded
// and X-Forwarded-Proto, each appended to what the request carried where the field is a list.
void add_forwarding_fields(const http::Request& req, std::string_view client_ip, bool tls,
                           std::string_view via_name, const ForwardPolicy& policy,
                           http::Headers& out);

// Cookie without the named cookies (the edge's own token cookie); empty when none remain.
std::string without_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace cdn::proxy
