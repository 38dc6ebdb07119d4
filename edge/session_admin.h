#pragma once
// The stream-session admin routes on the edge's admin listener:
//   GET /admin/sessions?[service=NAME&]sub=SUB                 a viewer's sessions
//   POST|DELETE /admin/sessions/kick?[service=NAME&]sub=SUB&sid=SID   ends a sid at every place
// The operator's token reaches every service's viewers (service= names one; without it, the
// subs of an edge without services). A delivery service's own admin_token (the check purge uses)
// reaches its service's viewers only: service= defaults to its service, and another service's
// is refused 403 session-out-of-scope (cdn_admin_rejections_total{reason}).
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "edge/sessions.h"

namespace cdn::runtime {
class AdminApi;
}

namespace cdn::edge {

// The name of the delivery service whose admin_token an Authorization value carries; empty = none.
using ServiceOfToken = std::function<std::string(std::string_view authorization)>;

// `service_of_token` empty: the operator's token only.
void add_session_admin_routes(runtime::AdminApi& admin, std::shared_ptr<Sessions> sessions,
                              ServiceOfToken service_of_token);

}  // namespace cdn::edge
