#pragma once
// Host header and absolute-form authority check (RFC 3986 §3.2.2, RFC 9110 §7.2): the host part
// becomes part of the cache key and of upstream requests, so only its grammar is let through.
#include <optional>
#include <string_view>

namespace cdn::http {

// `host [":" port]` where host is a reg-name (unreserved / pct-encoded / sub-delims, so IPv4 too)
// or "[IPv6]", and port is at most five digits. Returns the host part (brackets kept) or nullopt
// when the text is not of that form. An empty text is an empty host; a port needs a host.
std::optional<std::string_view> host_of_authority(std::string_view hostport);

}  // namespace cdn::http
