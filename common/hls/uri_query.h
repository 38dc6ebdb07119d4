#pragma once
// Appending a viewer's query to one URI, shared by the HLS playlist and DASH MPD rewriters so
// both treat schemes, existing queries and fragments alike.
#include <string>
#include <string_view>

namespace cdn::hls {

// True for "data:...", "skd://..." and other non-HTTP schemes: not fetched from us, left alone.
bool foreign_scheme(std::string_view uri);

// Appends `uri` to `out` with `query` added: "?q" when it has no query, else `amp` + "q" (the
// separator is "&amp;" inside XML); the query goes before any #fragment. Empty and foreign-scheme
// URIs are copied unchanged. `query` is written as given (already escaped for where it goes).
void append_with_query(std::string& out, std::string_view uri, std::string_view query,
                       std::string_view amp = "&");

}  // namespace cdn::hls
