#pragma once
// Routes origin requests: /vod/ from the directory, /ingest/ and /live/ to the live service (when
// a live: section is configured); everything else is 404 with CORS headers.
#include <memory>

#include "common/http/server_connection.h"
#include "origin-shield/origin/live_service.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

class OriginHandler : public http::RequestHandler {
 public:
  explicit OriginHandler(const config::OriginConfig& cfg, LiveService* live = nullptr)
      : vod_(cfg), live_(live) {}
  void handle(const std::shared_ptr<http::Exchange>& ex) override {
    if (vod_.handle(ex)) return;
    if (live_ && live_->handle(ex)) return;
    http::Headers h;
    add_cors(h);
    ex->respond_error(404, "not-found", std::move(h));
  }

 private:
  VodHandler vod_;
  LiveService* live_;
};

}  // namespace cdn::origin
