#include "common/cache/expiry_filter.h"

#include <string_view>

#include "common/cache/object.h"

namespace cdn::cache {

ExpiryCompactionFilter::ExpiryCompactionFilter(std::function<int64_t()> now_s) : now_s_(std::move(now_s)) {}

rocksdb::CompactionFilter::Decision ExpiryCompactionFilter::FilterV2(int, const rocksdb::Slice&, ValueType value_type,
                                                                   const rocksdb::Slice& existing_value,
                                                                   std::string*, std::string*) const {
  // With integrated BlobDB the compaction iterator resolves blob references and hands us the
  // value as kValue; kBlobIndex only reaches stacked (legacy) BlobDB filters.
  if (value_type != ValueType::kValue) return Decision::kKeep;
  auto expires = peek_expires_at_s(std::string_view(existing_value.data(), existing_value.size()));
  // An unrecognized head is left alone: reads detect corruption and delete it with accounting.
  if (expires && *expires < now_s_()) return Decision::kRemove;
  return Decision::kKeep;
}

}  // namespace cdn::cache
