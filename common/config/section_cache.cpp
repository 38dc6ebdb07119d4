// cache section.
#include "common/config/sections.h"

namespace cdn::config::sections {

void read_cache(MapReader& m, CacheConfig& out) {
  set(out.memory_bytes, m.get_size("memory"));
  if (auto shards = m.get_int("memory_shards", 1, 256)) {
    if ((*shards & (*shards - 1)) != 0)
      m.error("memory_shards", "must be a power of two, got " + std::to_string(*shards));
    else
      out.memory_shards = static_cast<uint32_t>(*shards);
  }
  set(out.disk_path, m.get_string("disk_path"));
  set(out.disk_max_bytes, m.get_size("disk_max"));
  set(out.max_object_size, m.get_size("max_object_size"));
  set(out.range_reach, m.get_size("range_reach"));
  set(out.ignore_query_params, m.get_string_list("ignore_query_params"));
  set(out.token_param, m.get_string("token_param", false));
  for (MapReader& r : m.get_maps("default_ttls")) {
    auto match = r.get_string(required("match"), false);
    auto ttl = r.get_duration_ms(required("ttl"));
    r.finish();
    if (match && ttl) out.default_ttls.push_back({*match, *ttl});
  }
  set(out.negative_ttl_ms, m.get_duration_ms("negative_ttl"));
  set(out.stale_while_revalidate_ms, m.get_duration_ms("stale_while_revalidate"));
  set(out.stale_if_error_ms, m.get_duration_ms("stale_if_error"));
}

}  // namespace cdn::config::sections
