#pragma once
// Request targets as a player builds them: a playlist's URI resolved against the playlist's own
// target (RFC 3986 §5.2, for the forms playlists use) and the viewer token added as a query
// parameter unless the URI already carries one (an edge that rewrites playlists puts it there).
#include <string>
#include <string_view>

namespace cdn::viewers {

// `base` is an origin-form target ("/live/a/master.m3u8?token=x"); `uri` absolute ("https://h/p"),
// absolute-path ("/p") or relative ("720p/index.m3u8", "../x.ts"). Returns an origin-form target.
std::string resolve_target(std::string_view base, std::string_view uri);

// Appends `name=value` to the query unless `name` is already a parameter of it.
std::string with_param(std::string_view target, std::string_view name, std::string_view value);

}  // namespace cdn::viewers
