#include "common/cache/disk_tier.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <vector>

#include "common/cache/expiry_filter.h"
#include "common/cache/thread_pool.h"
#include "common/util/clock.h"

namespace cdn::cache {

struct DiskTier::Impl {
  // Declaration order is destruction order reversed: the pool drains first, then the database
  // closes, and only then may the filter it points to go away.
  std::unique_ptr<ExpiryCompactionFilter> filter;
  std::unique_ptr<rocksdb::DB> db;
  std::unique_ptr<ThreadPool> pool;
};

namespace {

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

rocksdb::Options make_options(const DiskOptions& o, const rocksdb::CompactionFilter* filter) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.paranoid_checks = true;
  opts.max_background_jobs = 2;
  opts.enable_blob_files = true;
  opts.min_blob_size = o.blob_min_size;
  // Overwritten and deleted bodies are reclaimed from blob files only by blob GC.
  opts.enable_blob_garbage_collection = true;
  opts.compaction_filter = filter;
  return opts;
}

rocksdb::ReadOptions read_options() {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  return ro;
}

}  // namespace

Result<std::unique_ptr<DiskTier>> DiskTier::open(const DiskOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->filter = std::make_unique<ExpiryCompactionFilter>(options.now_s ? options.now_s : [] { return unix_now(); });
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(make_options(options, impl->filter.get()), options.path, &raw);
  if (!st.ok()) return make_error("disk cache: open " + options.path + ": " + st.ToString());
  impl->db.reset(raw);
  impl->pool = std::make_unique<ThreadPool>(options.io_threads);
  return std::unique_ptr<DiskTier>(new DiskTier(std::move(impl)));
}

DiskTier::DiskTier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DiskTier::~DiskTier() {
  impl_->pool.reset();
  // Close() flushes nothing by itself but reports errors that the destructor would swallow anyway;
  // with the WAL on, unflushed writes are recovered on the next open.
  impl_->db->Close();
  impl_->db.reset();
}

ObjectRef DiskTier::get_sync(std::string_view key_text) {
  rocksdb::PinnableSlice value;
  rocksdb::Status st = impl_->db->Get(read_options(), impl_->db->DefaultColumnFamily(), slice(key_text), &value);
  if (st.IsNotFound()) {
    stats_.misses.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (!st.ok()) {
    // RocksDB's own checksums caught it (block or blob record); I/O errors are not corruption.
    if (st.IsCorruption()) drop_corrupt(key_text);
    stats_.misses.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  auto obj = deserialize(std::string_view(value.data(), value.size()));
  if (!obj || obj->key_text != key_text) {
    drop_corrupt(key_text);
    stats_.misses.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  stats_.hits.fetch_add(1, std::memory_order_relaxed);
  return std::make_shared<const CachedObject>(std::move(*obj));
}

void DiskTier::drop_corrupt(std::string_view key_text) {
  stats_.corrupt.fetch_add(1, std::memory_order_relaxed);
  impl_->db->Delete(rocksdb::WriteOptions(), slice(key_text));  // best effort: a miss either way
}

void DiskTier::get_async(std::string key_text, std::function<void(ObjectRef)> done) {
  impl_->pool->submit([this, key = std::move(key_text), done = std::move(done)] {
    ObjectRef obj;
    try {
      obj = get_sync(key);
    } catch (...) {
      obj = nullptr;  // e.g. bad_alloc on a huge body: a miss, and the waiter still gets its answer
    }
    done(std::move(obj));
  });
}

void DiskTier::put_async(ObjectRef obj, std::function<void()> done) {
  if (!obj) return;
  impl_->pool->submit([this, obj = std::move(obj), done = std::move(done)] {
    rocksdb::Status st;
    try {
      st = impl_->db->Put(rocksdb::WriteOptions(), slice(obj->key_text), serialize(*obj));
    } catch (...) {
      st = rocksdb::Status::Aborted("serialize failed");
    }
    (st.ok() ? stats_.writes : stats_.write_errors).fetch_add(1, std::memory_order_relaxed);
    if (done) done();
  });
}

void DiskTier::erase_async(std::string key_text) {
  impl_->pool->submit([this, key = std::move(key_text)] { impl_->db->Delete(rocksdb::WriteOptions(), slice(key)); });
}

bool DiskTier::erase(std::string_view key_text) {
  // Existence is checked first only to answer the caller; purges are rare.
  rocksdb::PinnableSlice value;
  bool existed = impl_->db->Get(read_options(), impl_->db->DefaultColumnFamily(), slice(key_text), &value).ok();
  rocksdb::Status st = impl_->db->Delete(rocksdb::WriteOptions(), slice(key_text));
  return existed && st.ok();
}

size_t DiskTier::erase_prefix(std::string_view prefix) {
  rocksdb::ReadOptions ro = read_options();
  ro.fill_cache = false;  // a purge scan must not evict the block cache's hot entries
  rocksdb::WriteBatch batch;
  size_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
    batch.Delete(it->key());
    ++n;
  }
  if (n == 0) return 0;
  return impl_->db->Write(rocksdb::WriteOptions(), &batch).ok() ? n : 0;
}

void DiskTier::wait_idle() { impl_->pool->wait_idle(); }

Result<void> DiskTier::compact_all() {
  rocksdb::Status st = impl_->db->Flush(rocksdb::FlushOptions());
  if (st.ok()) {
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    st = impl_->db->CompactRange(cro, nullptr, nullptr);
  }
  if (!st.ok()) return make_error("disk cache: compact: " + st.ToString());
  return {};
}

}  // namespace cdn::cache
