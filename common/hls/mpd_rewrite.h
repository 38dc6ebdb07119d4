#pragma once
// Token propagation for DASH: the edge appends the viewer's query to every URL in an MPD the
// player resolves segments and manifest updates from, as rewrite_uris does for HLS playlists:
// SegmentTemplate@media/@initialization/@index, SegmentURL@media/@index,
// Initialization@sourceURL, RepresentationIndex@sourceURL, the text of BaseURL and Location, and
// UTCTiming@value when it is a path on the MPD's own host (the time endpoint the edge serves).
// One pass over the bytes, no DOM: everything else (declarations, comments, CDATA, other
// elements and attributes, whitespace) is copied unchanged, and input that stops being
// well-formed is copied unchanged from where it stops.
#include <string>
#include <string_view>

namespace cdn::hls {

// `query_to_append` is "a=b&c=d" (a leading '?' or '&' is ignored). It is written XML-escaped
// ("&amp;"), and inside SegmentTemplate's templates with '$' doubled (ISO/IEC 23009-1 §5.3.9.4.4:
// "$$" is a literal '$'). Empty query → input returned unchanged.
std::string rewrite_mpd_uris(std::string_view mpd, std::string_view query_to_append);

// True when the body is XML (an MPD) rather than an M3U playlist: its first byte after an
// optional UTF-8 BOM and whitespace is '<'.
bool looks_like_xml(std::string_view body);

}  // namespace cdn::hls
