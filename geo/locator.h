#pragma once
// Where a viewer is: coverage zones first, then MaxMind, then the default site. The files are
// held in an immutable snapshot swapped atomically, so a reload never blocks or drops an answer
// and a broken new file leaves the old data in use.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/result.h"
#include "geo/coverage_zones.h"
#include "geo/geo_config.h"
#include "geo/maxmind_db.h"

namespace cdn::geo {

enum class LocatedBy { Coverage, MaxMind, Default };
const char* to_string(LocatedBy b);

struct Location {
  LocatedBy by = LocatedBy::Default;
  std::optional<size_t> site;  // coverage zone or default; MaxMind gives coordinates instead
  double lat = 0, lon = 0;     // MaxMind only
  uint32_t accuracy_radius_km = 0;
  uint8_t scope = 0;              // prefix of the zone or network that decided; 0 for the default
  std::string_view maxmind_miss;  // why MaxMind did not decide (empty when it did or was not asked)
};

struct LocatorData {
  std::optional<CoverageZones> coverage;
  std::unique_ptr<MaxMindDb> maxmind;
};

// Reads the files a config names; the error names the file that failed.
Result<std::shared_ptr<const LocatorData>> load_locator_data(const GeoConfig& cfg);

class Locator {
 public:
  explicit Locator(std::shared_ptr<const LocatorData> data) : data_(std::move(data)) {}
  Location locate(const IpAddr& addr, const GeoConfig& cfg) const;
  // Loads the config's files again; on failure keeps the current data and returns why.
  Result<void> reload(const GeoConfig& cfg);
  std::shared_ptr<const LocatorData> data() const { return data_.load(); }

 private:
  std::atomic<std::shared_ptr<const LocatorData>> data_;
};

}  // namespace cdn::geo
