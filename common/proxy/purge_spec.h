#pragma once
// One purge as an operator asked for it, the same on every node: what to purge (a URL, a URL
// prefix or a surrogate key), hard (remove) or soft (mark stale), and, once accepted for the
// fleet, its id. Each node turns it into its own cache-key terms (LocalPurge) when it applies it.
// The query form ("url=…&soft=1&id=…") is what the admin API takes, what forwarding repeats and
// what the fleet's Redis messages carry.
#include <optional>
#include <string>
#include <string_view>

#include "common/util/result.h"

namespace cdn::proxy {

enum class PurgeKind { Url, Prefix, Key };
const char* to_string(PurgeKind k);

struct PurgeSpec {
  PurgeKind kind = PurgeKind::Url;
  std::string value;  // the URL, URL prefix or surrogate key as given
  bool soft = false;
  std::string id;  // fleet purge id; empty for a purge of this node only
  // The delivery service the purge is limited to (service=; set from a service's admin token);
  // empty = every service.
  std::string service;
};

// Exactly one of url=, prefix=, key= (non-empty), optional soft=0|1, id= and service=; other
// parameters are the caller's (e.g. fleet=1) and ignored. The error message is the reason for a
// 400.
Result<PurgeSpec> purge_spec_from_query(std::string_view query);
std::string to_query(const PurgeSpec& p);

// What a node purges from its caches: a key text, a key-text prefix or a surrogate key.
struct LocalPurge {
  PurgeKind kind = PurgeKind::Url;
  std::string target;
  bool soft = false;
  // A delivery service's key prefix the purge is limited to (a surrogate key purged with that
  // service's admin token); empty = every object.
  std::string within;
};

}  // namespace cdn::proxy
