#pragma once
// access.public_prefixes: the paths served without a token when `access:` is on. Matching is on
// the normalized request path (the request parser normalizes it) and only at a segment boundary.
#include <string>
#include <string_view>
#include <vector>

namespace cdn::edge {

// A prefix as a normalized path could start: absolute, no empty, "." or ".." segment, no escape,
// query, fragment, backslash, space or control byte (none survives normalization, so such a
// prefix would silently match nothing, or match before normalization what it should not).
bool valid_public_prefix(std::string_view prefix);

// Whether `path` lies under one of `prefixes`: "/assets" and "/assets/" cover /assets/x, and
// "/assets" covers /assets itself, never /assetsx. A path still holding an empty or dot segment,
// plain or percent-encoded, is never public: had it not been normalized, "/assets/../vod/x" would
// otherwise skip the gate while the origin serves /vod/x.
bool under_public_prefix(std::string_view path, const std::vector<std::string>& prefixes);

}  // namespace cdn::edge
