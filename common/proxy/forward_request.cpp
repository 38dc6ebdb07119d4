#include "common/proxy/forward_request.h"

#include "common/util/strings.h"

namespace cdn::proxy {

namespace {

// Rebuilt by the fetcher for every upstream request, never copied from the client (a viewer's
// X-Purge-Seq would make the shields wait for purges that do not exist).
bool rebuilt_per_hop(std::string_view n) {
  return iequals(n, "host") || iequals(n, "content-length") || iequals(n, "expect") ||
         iequals(n, "via") || iequals(n, "x-forwarded-for") || iequals(n, "forwarded") ||
         iequals(n, "x-forwarded-proto") || iequals(n, "x-purge-seq");
}

// The cache validates and ranges its own copy (RFC 9111 §4.3.1); a client's conditional on a
// shared fill would turn the one response every waiter shares into its private 304 or 206.
bool cache_fill_own(std::string_view n) {
  return iequals(n, "if-none-match") || iequals(n, "if-modified-since") || iequals(n, "if-match") ||
         iequals(n, "if-unmodified-since") || iequals(n, "if-range") || iequals(n, "range");
}

std::string forwarded_node(std::string_view ip) {
  // RFC 7239 §6: an IPv6 address is bracketed, and then the value must be quoted.
  if (ip.find(':') != std::string_view::npos) return "\"[" + std::string(ip) + "]\"";
  return std::string(ip);
}

void append_list(http::Headers& out, const http::Request& req, std::string_view name,
                 const std::string& value) {
  std::string v;
  for (const auto& h : req.headers)
    if (iequals(h.name, name)) v += (v.empty() ? "" : ", ") + h.value;
  out.add(std::string(name), v.empty() ? value : v + ", " + value);
}

}  // namespace

http::Headers forwarded_fields(const http::Request& req, const ForwardPolicy& policy,
                               bool cache_fill) {
  http::Headers h = req.headers;
  http::strip_hop_by_hop(h);  // RFC 9110 §7.6.1, including the fields Connection names
  auto& v = h.raw();
  std::erase_if(v, [&](const http::Header& x) {
    if (rebuilt_per_hop(x.name) || (cache_fill && cache_fill_own(x.name))) return true;
    for (const auto& s : policy.strip)
      if (iequals(x.name, s)) return true;
    return false;
  });
  return h;
}

void add_forwarding_fields(const http::Request& req, std::string_view client_ip, bool tls,
                           std::string_view via_name, const ForwardPolicy& policy,
                           http::Headers& out) {
  // RFC 9110 §7.6.3: each intermediary appends its own entry to Via.
  append_list(out, req, "Via", "1.1 " + std::string(via_name));
  if (client_ip.empty()) return;
  append_list(out, req, "X-Forwarded-For", std::string(client_ip));
  std::string proto = tls ? "https" : "http";
  // RFC 7239 §4: one element per proxy, appended.
  append_list(out, req, "Forwarded", "for=" + forwarded_node(client_ip) + ";proto=" + proto);
  const std::string* claimed = req.headers.get("x-forwarded-proto");
  out.add("X-Forwarded-Proto", policy.trust_forwarded_proto && claimed ? *claimed : proto);
}

std::string without_cookie(std::string_view cookie_header, std::string_view name) {
  std::string out;
  for (std::string_view pair : split(cookie_header, ';')) {
    pair = trim(pair);
    if (pair.empty()) continue;
    std::string_view n = trim(pair.substr(0, pair.find('=')));
    if (n == name) continue;  // cookie names are case-sensitive (RFC 6265 §5.3)
    if (!out.empty()) out += "; ";
    out += pair;
  }
  return out;
}

}  // namespace cdn::proxy
