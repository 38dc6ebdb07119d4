#pragma once
// HTTP steering on cdn-geo's viewer listener: GET or HEAD on a delivery host answers 302 to the
// chosen edge by name, "https://<edge>.<zone>[:https_port]" + the request target, so the path and
// the query (with the viewer token) are kept and the edge's certificate can name the edge.
// The key is the content path without the query, so each edge caches a share of the content.
#include "common/http/server_connection.h"
#include "common/runtime/admin_api.h"
#include "geo/current_geo.h"

namespace cdn::geo {

class HttpSteering : public http::RequestHandler {
 public:
  explicit HttpSteering(const CurrentGeo& current) : current_(current) {}
  void handle(const std::shared_ptr<http::Exchange>& ex) override;

 private:
  const CurrentGeo& current_;
};

// GET /state and GET /steer?ip=...&path=... on the admin listener.
void add_geo_admin_routes(runtime::AdminApi& admin, const CurrentGeo& current);

}  // namespace cdn::geo
