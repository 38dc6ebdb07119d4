#include "common/http/h2_request.h"

#include "common/http/host.h"
#include "common/util/strings.h"

namespace cdn::http {

bool H2RequestBuilder::fail(int status, const char* reason) {
  if (status_ == 0) {
    status_ = status;
    reason_ = reason;
  }
  return false;
}

void H2RequestBuilder::add(std::string_view name, std::string_view value) {
  if (status_) return;
  // RFC 9113 §6.5.2: a field costs its name, its value and 32 bytes of overhead.
  list_bytes_ += name.size() + value.size() + 32;
  if (list_bytes_ > max_list_) {
    fail(431, "header-list-too-large");
    return;
  }
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") {
      req_.method = value;
    } else if (name == ":path") {
      if (value.size() > limits_.max_url_bytes) fail(414, "url-too-long");
      req_.target = value;
    } else if (name == ":authority") {
      authority_ = value;
      has_authority_ = true;
    }
    return;  // :scheme needs nothing from us; nghttp2 refuses unknown pseudo-fields
  }
  if (name.size() > limits_.max_field_bytes || value.size() > limits_.max_field_bytes) {
    fail(431, "field-too-large");
    return;
  }
  if (name == "cookie") {  // RFC 9113 §8.2.3: crumbs are joined back into one field
    if (!cookie_.empty()) cookie_ += "; ";
    cookie_ += value;
    return;
  }
  if (req_.headers.size() >= limits_.max_headers) {
    fail(431, "too-many-headers");
    return;
  }
  req_.headers.add(std::string(name), std::string(value));
}

bool H2RequestBuilder::finish(bool has_body) {
  if (status_) return false;
  Request& r = req_;
  if (r.method == "CONNECT") return fail(405, "method-not-allowed");
  if (!cookie_.empty()) r.headers.add("cookie", std::move(cookie_));
  // One pass: values trimmed (copied only when there is something to trim), Host found.
  Header* host_header = nullptr;
  for (auto& h : r.headers.raw()) {
    if (std::string_view t = trim(h.value); t.size() != h.value.size()) h.value = std::string(t);
    if (iequals(h.name, "host")) {
      if (host_header) return fail(400, "duplicate-host");
      host_header = &h;
    }
  }
  // :authority wins over Host (RFC 9113 §8.3.1); either way the one check decides.
  if (!has_authority_ && !host_header) return fail(400, "missing-host");
  std::string_view authority = has_authority_ ? std::string_view(authority_) : host_header->value;
  auto host = host_of_authority(authority);
  if (!host) return fail(400, "bad-host");
  r.host = to_lower(*host);
  if (has_authority_) {
    if (host_header) {
      host_header->value = std::move(authority_);
    } else {
      r.headers.add("Host", std::move(authority_));
    }
  }
  if (r.method == "OPTIONS" && r.target == "*") {
    r.path = r.target;
  } else {
    NormalizedTarget t = normalize_target(r.target, limits_.escaped_slashes);
    if (!t.ok()) return fail(400, t.error);
    r.path = std::move(t.path);
    r.query = std::move(t.query);
    r.target = t.has_query ? r.path + '?' + r.query : r.path;
  }
  r.version_minor = 1;
  r.keep_alive = true;
  r.has_body = has_body;
  return true;
}

}  // namespace cdn::http
