#pragma once
// The one normalization of a request target (RFC 3986 §6.2.2), done once by the request parser so
// that the access gate, the token scope, the cache key and the upstream request all read the same
// path: percent-escapes of unreserved characters decoded, the rest uppercased, dot segments
// removed, repeated slashes merged. Bytes outside RFC 9110/3986's grammar are refused rather than
// passed on, since another parser behind us may read them differently.
#include <string>
#include <string_view>

namespace cdn::http {

// What to do with %2F and %5C in a path (Envoy's path_with_escaped_slashes_action): refuse the
// request, or keep them encoded everywhere (object-store origins use them inside names).
enum class EscapedSlashes { Refuse, Keep };

struct NormalizedTarget {
  std::string path;   // starts with '/'
  std::string query;  // without the '?'
  bool has_query = false;
  // The error reason (status 400) when the target was refused; empty when it was accepted.
  const char* error = "";
  bool ok() const { return error[0] == '\0'; }
};

// `target` is origin-form: "/path[?query]".
NormalizedTarget normalize_target(std::string_view target, EscapedSlashes slashes);

}  // namespace cdn::http
