#pragma once
// The output formats of a packaged VOD (`cdn-origin package --formats`, `POST /admin/package`'s
// `formats=`): the vocabulary of live.channels[].formats without llhls and lldash, which only
// serve a live edge (parts, blocking reload, segments sent as written) that a file does not have.
#include <string>
#include <string_view>

#include "common/util/result.h"
#include "origin-shield/origin/live_config.h"

namespace cdn::origin {

// "ts,fmp4,dash" (any order, at least one). The error is a short reason for a 400:
// "format-not-for-vod" (llhls, lldash), "unknown-format", "formats-empty".
Result<LiveFormats> parse_vod_formats(std::string_view list);
std::string vod_formats_text(const LiveFormats& f);
// A channel's live formats as VOD: llhls packages as fmp4, lldash as dash.
LiveFormats vod_formats_of(const LiveFormats& live);

}  // namespace cdn::origin
