#pragma once
// A MaxMind City database (GeoIP2/GeoLite2 format) through libmaxminddb, memory-mapped; lookups
// are thread-safe. An answer that knows only the country (no city), has no coordinates, or is less
// precise than the configured radius is a miss: it must not send a whole country to the site
// nearest that country's centre.
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/util/result.h"

struct MMDB_s;

namespace cdn::geo {

struct MaxMindHit {
  double lat = 0, lon = 0;
  uint32_t accuracy_radius_km = 0;
  uint8_t prefix = 0;  // the network that matched, in the address's own family
};

enum class MaxMindMiss { NotFound, CountryOnly, NoLocation, TooImprecise, Error };
const char* to_string(MaxMindMiss m);

class MaxMindDb {
 public:
  static Result<std::unique_ptr<MaxMindDb>> open(const std::string& path);
  ~MaxMindDb();
  MaxMindDb(const MaxMindDb&) = delete;
  MaxMindDb& operator=(const MaxMindDb&) = delete;

  // `miss` (when not null) tells why nothing came back.
  std::optional<MaxMindHit> lookup(const sockaddr_storage& addr, uint32_t max_accuracy_radius_km,
                                   MaxMindMiss* miss = nullptr) const;
  const std::string& path() const { return path_; }

 private:
  MaxMindDb() = default;
  std::unique_ptr<MMDB_s> db_;
  std::string path_;
};

}  // namespace cdn::geo
