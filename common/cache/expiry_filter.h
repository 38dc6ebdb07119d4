#pragma once
// RocksDB compaction filter that garbage-collects objects nobody may serve any more, so expired
// content leaves the disk without a scan.
#include <rocksdb/compaction_filter.h>

#include <cstdint>
#include <functional>

namespace cdn::cache {

class ExpiryCompactionFilter : public rocksdb::CompactionFilter {
 public:
  // now_s is injectable so that tests do not have to wait for real time to pass.
  explicit ExpiryCompactionFilter(std::function<int64_t()> now_s);

  // Called from several compaction threads at once (one shared instance): stateless apart from
  // the clock, which must be thread-safe.
  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice& existing_value, std::string* new_value,
                    std::string* skip_until) const override;
  const char* Name() const override { return "cdn.cache.ExpiryCompactionFilter"; }

 private:
  std::function<int64_t()> now_s_;
};

}  // namespace cdn::cache
