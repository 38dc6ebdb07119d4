#include "common/http/message.h"

#include "common/util/strings.h"

namespace cdn::http {

const std::string* Headers::get(std::string_view name) const {
  for (auto& h : v_)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

std::string_view Headers::get_or(std::string_view name, std::string_view fallback) const {
  const std::string* v = get(name);
  return v ? std::string_view(*v) : fallback;
}

size_t Headers::count(std::string_view name) const {
  size_t n = 0;
  for (auto& h : v_) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

void Headers::set(std::string_view name, std::string value) {
  remove(name);
  v_.push_back({std::string(name), std::move(value)});
}

void Headers::remove(std::string_view name) {
  for (auto it = v_.begin(); it != v_.end();) {
    if (iequals(it->name, name)) it = v_.erase(it); else ++it;
  }
}

void Request::clear() {
  method.clear();
  target.clear();
  path.clear();
  query.clear();
  headers.clear();
  host.clear();
  version_minor = 1;
  keep_alive = true;
  has_body = false;
}

std::string_view status_reason(int s) {
  switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

bool is_hop_by_hop(std::string_view n) {
  // Called for every header of every response: dispatch on length before comparing.
  switch (n.size()) {
    case 2: return iequals(n, "te");
    case 7: return iequals(n, "trailer") || iequals(n, "upgrade");
    case 10: return iequals(n, "connection") || iequals(n, "keep-alive");
    case 16: return iequals(n, "proxy-connection");
    case 17: return iequals(n, "transfer-encoding");
    case 18: return iequals(n, "proxy-authenticate");
    case 19: return iequals(n, "proxy-authorization");
    default: return false;
  }
}

void strip_hop_by_hop(Headers& h) {
  std::vector<std::string> named;
  for (auto& x : h)
    if (iequals(x.name, "connection"))
      for (auto tok : split(x.value, ',')) named.push_back(std::string(trim(tok)));
  auto& v = h.raw();
  for (auto it = v.begin(); it != v.end();) {
    bool drop = is_hop_by_hop(it->name);
    for (auto& n : named) drop = drop || iequals(it->name, n);
    if (drop) it = v.erase(it); else ++it;
  }
}

}  // namespace cdn::http
