#pragma once
// Serves a directory of HLS VOD under /vod/: correct content types, Cache-Control (short for
// playlists, long + immutable for segments), ETag / Last-Modified, conditionals and ranges.
// Files are opened, stat'ed and streamed in blocks with libuv fs requests (vod_stream.h): never
// read whole, never on the event loop; a Range reads only its bytes.
#include <memory>
#include <string>

#include "common/config/server_config.h"
#include "common/http/server_connection.h"

namespace cdn::origin {

class VodHandler {
 public:
  explicit VodHandler(const config::OriginConfig& cfg) : cfg_(cfg) {}
  // True if the request was for /vod/ (and has been answered or is being answered).
  bool handle(const std::shared_ptr<http::Exchange>& ex);

 private:
  const config::OriginConfig& cfg_;
};

std::string_view content_type_for(std::string_view path);
// Adds CORS headers that browser players need on every response, errors included.
void add_cors(http::Headers& h);
// GET and HEAD go on (true); OPTIONS gets the CORS preflight answer, other methods 405 (false).
bool allow_read_methods(const std::shared_ptr<http::Exchange>& ex);
void respond_method_not_allowed(const std::shared_ptr<http::Exchange>& ex, std::string allow);

}  // namespace cdn::origin
