#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::http {

struct Header {
  std::string name, value;
};

// Ordered header list; names compared case-insensitively. Small and linear on purpose: requests
// carry a dozen headers, and a vector keeps its capacity across keep-alive requests.
class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<Header> init) : v_(init) {}
  const std::string* get(std::string_view name) const;
  std::string_view get_or(std::string_view name, std::string_view fallback = {}) const;
  size_t count(std::string_view name) const;
  void add(std::string name, std::string value) { v_.push_back({std::move(name), std::move(value)}); }
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  void clear() { v_.clear(); }
  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  auto begin() const { return v_.begin(); }
  auto end() const { return v_.end(); }
  std::vector<Header>& raw() { return v_; }
  const std::vector<Header>& raw() const { return v_; }

 private:
  std::vector<Header> v_;
};

struct Request {
  std::string method;
  std::string target;  // path?query, normalized by the parser (request_target.h)
  std::string path;    // target before '?'
  std::string query;   // after '?', without it
  int version_minor = 1;
  Headers headers;
  std::string host;  // Host header without port, lowercased
  bool keep_alive = true;
  bool has_body = false;
  void clear();
  bool is_head() const { return method == "HEAD"; }
};

std::string_view status_reason(int status);
// RFC 9110 §7.6.1: hop-by-hop fields plus every field named in Connection.
bool is_hop_by_hop(std::string_view name);
void strip_hop_by_hop(Headers& h);

}  // namespace cdn::http
