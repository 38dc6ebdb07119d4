#pragma once
// Routes origin requests: /vod/ from the directory; everything else is 404 with CORS headers.
#include <memory>

#include "common/http/server_connection.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

class OriginHandler : public http::RequestHandler {
 public:
  explicit OriginHandler(const config::OriginConfig& cfg) : vod_(cfg) {}
  void handle(const std::shared_ptr<http::Exchange>& ex) override {
    if (vod_.handle(ex)) return;
    http::Headers h;
    add_cors(h);
    ex->respond_error(404, "not-found", std::move(h));
  }

 private:
  VodHandler vod_;
};

}  // namespace cdn::origin
