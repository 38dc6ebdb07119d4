#pragma once
// The live origin's admin routes (bearer admin token, on the admin listener's loop):
//   GET    /admin/channels       the channels in effect and the read-only ones, with their state
//   POST   /admin/channels       add {name, stream_key?, renditions: [{name, udp?, udp_backup?}]}
//   DELETE /admin/channels/NAME  remove
//   POST   /admin/channels/NAME/rotate-key   new key {stream_key?} (generated when absent)
//   POST   /admin/package?input=PATH&channel=NAME[&rendition=vod][&target_duration=S]
//   GET    /admin/package        the package jobs and their progress (live_packager.h)
// The loop only parses and answers: the work runs on the live service's job threads.
namespace cdn::runtime {
class AdminApi;
}

namespace cdn::origin {

class LiveService;

void add_live_admin_routes(runtime::AdminApi& admin, LiveService& service);

}  // namespace cdn::origin
