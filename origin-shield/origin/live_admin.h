#pragma once
// The live origin's admin routes (bearer admin token, on the admin listener's loop):
//   GET    /admin/channels                    channels in effect and read-only ones, with state
//   POST   /admin/channels                    add: {name, stream_key?, renditions: [{name, udp?, udp_backup?}]}
//   DELETE /admin/channels/<name>             remove
//   POST   /admin/channels/<name>/rotate-key  new key: {stream_key?} (generated if absent)
//   POST   /admin/package?input=&channel=[&rendition=][&target_duration=]   package a file as VOD
//   GET    /admin/package                     the package jobs and their progress
// The loop only parses and answers: the work runs on the live service's job threads.
namespace cdn::runtime {
class AdminApi;
}

namespace cdn::origin {

class LiveService;

void add_live_admin_routes(runtime::AdminApi& admin, LiveService& service);

}  // namespace cdn::origin
