#pragma once
// Token propagation on the edge: a viewer's token must reach every URI the player will fetch next,
// so the edge appends the viewer's query to each segment/playlist URI line and to the URI="..."
// attribute of tags that point at fetchable resources. One pass over the bytes, no model.
#include <string>
#include <string_view>

namespace cdn::hls {

// `query_to_append` is "a=b&c=d" (a leading '?' or '&' is ignored). URIs that already carry a
// query get "&q", others "?q"; the query goes before any #fragment. URIs with a scheme other than
// http/https (data:, skd:, ...) are left alone: they are not fetched from us. Line endings, tags
// and comments are copied unchanged. Empty query → input returned unchanged.
std::string rewrite_uris(std::string_view playlist, std::string_view query_to_append);

}  // namespace cdn::hls
