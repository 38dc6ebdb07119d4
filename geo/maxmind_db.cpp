#include "geo/maxmind_db.h"

#include <maxminddb.h>

#include <cstring>

namespace cdn::geo {

namespace {

// MMDB_get_value builds its path array with calloc per call; MMDB_aget_value takes ours, so a
// lookup allocates nothing.
int get_value(MMDB_entry_s* entry, MMDB_entry_data_s* data, const char* a, const char* b) {
  const char* const path[] = {a, b, nullptr};
  return MMDB_aget_value(entry, data, path);
}

std::optional<double> get_double(MMDB_entry_s* entry, const char* a, const char* b) {
  MMDB_entry_data_s data{};
  if (get_value(entry, &data, a, b) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) return data.double_value;
  if (data.type == MMDB_DATA_TYPE_FLOAT) return double(data.float_value);
  return std::nullopt;
}

std::optional<uint32_t> get_uint(MMDB_entry_s* entry, const char* a, const char* b) {
  MMDB_entry_data_s data{};
  if (get_value(entry, &data, a, b) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      return data.uint16;
    case MMDB_DATA_TYPE_UINT32:
      return data.uint32;
    case MMDB_DATA_TYPE_INT32:
      return data.int32 < 0 ? std::nullopt : std::optional<uint32_t>(uint32_t(data.int32));
    default:
      return std::nullopt;
  }
}

bool has_city(MMDB_entry_s* entry) {
  MMDB_entry_data_s data{};
  if (get_value(entry, &data, "city", "geoname_id") == MMDB_SUCCESS && data.has_data) return true;
  return get_value(entry, &data, "city", "names") == MMDB_SUCCESS && data.has_data;
}

}  // namespace

const char* to_string(MaxMindMiss m) {
  switch (m) {
    case MaxMindMiss::NotFound:
      return "not-found";
    case MaxMindMiss::CountryOnly:
      return "country-only";
    case MaxMindMiss::NoLocation:
      return "no-location";
    case MaxMindMiss::TooImprecise:
      return "accuracy-radius-over-limit";
    case MaxMindMiss::Error:
      return "lookup-error";
  }
  return "?";
}

Result<std::unique_ptr<MaxMindDb>> MaxMindDb::open(const std::string& path) {
  std::unique_ptr<MaxMindDb> db(new MaxMindDb());
  db->db_ = std::make_unique<MMDB_s>();
  db->path_ = path;
  int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db->db_.get());
  if (rc != MMDB_SUCCESS) {
    std::string why = MMDB_strerror(rc);
    if (rc == MMDB_IO_ERROR) why += std::string(": ") + std::strerror(errno);
    db->db_.reset();
    return Error{path + ": " + why};
  }
  return db;
}

MaxMindDb::~MaxMindDb() {
  if (db_) MMDB_close(db_.get());
}

std::optional<MaxMindHit> MaxMindDb::lookup(const sockaddr_storage& addr, uint32_t max_radius,
                                            MaxMindMiss* miss) const {
  auto fail = [miss](MaxMindMiss m) -> std::optional<MaxMindHit> {
    if (miss) *miss = m;
    return std::nullopt;
  };
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s r =
      MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&addr), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS) return fail(MaxMindMiss::Error);
  if (!r.found_entry) return fail(MaxMindMiss::NotFound);
  if (!has_city(&r.entry)) return fail(MaxMindMiss::CountryOnly);
  auto lat = get_double(&r.entry, "location", "latitude");
  auto lon = get_double(&r.entry, "location", "longitude");
  if (!lat || !lon) return fail(MaxMindMiss::NoLocation);
  auto radius = get_uint(&r.entry, "location", "accuracy_radius");
  if (!radius || *radius > max_radius) return fail(MaxMindMiss::TooImprecise);
  MaxMindHit hit{*lat, *lon, *radius, uint8_t(r.netmask)};
  // An IPv4 address in an IPv6 tree is found under ::/96, and the netmask counts those 96 bits.
  if (addr.ss_family == AF_INET && db_->metadata.ip_version == 6)
    hit.prefix = uint8_t(r.netmask > 96 ? r.netmask - 96 : 0);
  return hit;
}

}  // namespace cdn::geo
