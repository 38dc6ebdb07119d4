#pragma once
// The admin listener of every server: /healthz and /metrics for anyone who can reach it (loopback
// by default), and write routes that need the admin bearer token.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/http/server_connection.h"

namespace cdn::runtime {

class AdminApi : public http::RequestHandler {
 public:
  using Route = std::function<void(const std::shared_ptr<http::Exchange>&)>;
  explicit AdminApi(std::string token) : token_(std::move(token)) {}
  // Read-only GET route, open to whoever reaches the admin listener.
  void add_read(const std::string& path, Route r) { reads_[path] = std::move(r); }
  // Write route (POST/DELETE): requires "Authorization: Bearer <token>".
  void add_write(const std::string& path, Route r) { writes_[path] = std::move(r); }
  void handle(const std::shared_ptr<http::Exchange>& ex) override;

 private:
  std::string token_;
  std::map<std::string, Route> reads_, writes_;
};

}  // namespace cdn::runtime
