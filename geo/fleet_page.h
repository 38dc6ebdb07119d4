#pragma once
// The operator's fleet page on cdn-geo's admin listener: GET / (HTML), /fleet.css and /fleet.js,
// public reads like /state, which the page polls. Everything is compiled in, so the page works
// with no network beyond the admin listener, and a strict Content-Security-Policy allows only
// the page's own script and style (no inline code, no other origin).
#include "common/runtime/admin_api.h"

namespace cdn::geo {

void add_fleet_page_routes(runtime::AdminApi& admin);

}  // namespace cdn::geo
