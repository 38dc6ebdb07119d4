#include "common/cache/disk_tier.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/cache/disk_accounting.h"
#include "common/cache/disk_tags.h"
#include "common/cache/expiry_filter.h"
#include "common/cache/surrogate_keys.h"
#include "common/cache/thread_pool.h"
#include "common/util/clock.h"

namespace cdn::cache {

namespace {

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

rocksdb::ReadOptions read_options() {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  return ro;
}

// Evicted and purged entries leave tombstones; files dense with them get compacted early, which
// is also what lets blob files whose values are all gone be deleted.
std::shared_ptr<rocksdb::TablePropertiesCollectorFactory> deletion_compactor() {
  return rocksdb::NewCompactOnDeletionCollectorFactory(/*window=*/256, /*trigger=*/128);
}

constexpr size_t kStripes = 64;
constexpr size_t kBatch = 256;  // records per eviction / purge / reconcile write
// Chunk records are written in batches of about this many bytes, so that a large body never sits
// in one memtable write whole.
constexpr size_t kChunkBatchBytes = 4u << 20;

uint64_t new_generation() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

// Stored bytes of an object's chunk records: values (header, data, checksum) and keys.
uint64_t chunk_records_size(size_t key_size, uint64_t body_size, const ChunkLayout& l) {
  return uint64_t(l.chunk_count) * (32 + 8 + key_size + 5) + body_size;
}

}  // namespace

struct DiskTier::Impl {
  // Declaration order is destruction order reversed: the pool drains first, then the database
  // closes, and only then may the filter it points to (and the filter's sink) go away.
  disk::DroppedKeys dropped;
  std::unique_ptr<disk::RecordingCompactionFilter> filter;
  // Chunks carry their object's expiry too; one whose head was removed goes with it.
  std::unique_ptr<ExpiryCompactionFilter> chunk_filter;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed before the db closes
  rocksdb::ColumnFamilyHandle* objects = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* order = nullptr;
  rocksdb::ColumnFamilyHandle* chunks = nullptr;
  rocksdb::ColumnFamilyHandle* tags = nullptr;
  std::unique_ptr<ThreadPool> pool;
  std::function<void(std::string_view)> on_removed;

  // Eviction has its own thread, so that it starts at once rather than behind a backlog of queued
  // puts, and never runs on a caller's thread.
  std::mutex ev_mu;
  std::condition_variable ev_cv, ev_idle_cv;
  bool ev_wanted = false, ev_running = false, ev_stop = false;
  std::thread ev_thread;

  Stats* stats = nullptr;
  uint64_t max_bytes = 0;  // 0 = unlimited
  uint64_t low_water = 0;  // eviction stops at or below this

  std::atomic<uint64_t> live_bytes{0};
  std::atomic<bool> reconciling{false};

  // A key's object, index and order records change only under its stripe's lock; several stripes
  // are always taken in ascending order.
  std::array<std::mutex, kStripes> stripes;

  // Sequence numbers handed out but not yet written (or failed): eviction must not move its cursor
  // past one, or the record would land behind the cursor and never be evicted.
  std::mutex seq_mu;
  uint64_t next_seq = 0;
  std::multiset<uint64_t> in_flight;
  uint64_t evict_cursor = 0;  // touched only by the eviction thread (and open, before it starts)

  size_t stripe_of(std::string_view key) const { return std::hash<std::string_view>{}(key) % kStripes; }

  std::vector<std::unique_lock<std::mutex>> lock_keys(const std::vector<std::string_view>& keys) {
    std::vector<size_t> ids;
    ids.reserve(keys.size());
    for (auto k : keys) ids.push_back(stripe_of(k));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(ids.size());
    for (size_t i : ids) locks.emplace_back(stripes[i]);
    return locks;
  }

  void add_live(uint64_t n) { live_bytes.fetch_add(n, std::memory_order_relaxed); }
  void sub_live(uint64_t n) {
    uint64_t cur = live_bytes.load(std::memory_order_relaxed);
    while (!live_bytes.compare_exchange_weak(cur, cur > n ? cur - n : 0, std::memory_order_relaxed)) {
    }
  }

  uint64_t begin_seq() {
    std::lock_guard lock(seq_mu);
    uint64_t s = next_seq++;
    in_flight.insert(s);
    return s;
  }
  void end_seq(uint64_t s) {
    std::lock_guard lock(seq_mu);
    in_flight.erase(in_flight.find(s));
  }
  // Every seq below this has been written or abandoned.
  uint64_t settled_below() {
    std::lock_guard lock(seq_mu);
    return in_flight.empty() ? next_seq : *in_flight.begin();
  }

  // Reads key's index record; nullopt when absent or unreadable (a malformed one is treated as
  // absent: its order twin, if any, is reclaimed as an orphan by eviction).
  std::optional<disk::IndexEntry> read_index(std::string_view key) {
    std::string v;
    if (!db->Get(read_options(), index, slice(key), &v).ok()) return std::nullopt;
    return disk::decode_index(v);
  }
  bool order_exists(uint64_t seq) {
    std::string v;
    return db->Get(read_options(), order, disk::encode_seq(seq), &v).ok();
  }

  // Incomplete: not stored, being larger than the cap.
  rocksdb::Status put(const CachedObject& obj);
  // Chunk records go first, in several batches and outside the key's lock; the head that makes
  // them reachable lands last, in one batch with the records.
  rocksdb::Status write_chunks(const CachedObject& obj, const ChunkLayout& layout);
  void delete_chunks(std::string_view key, uint32_t from, uint32_t to, rocksdb::WriteBatch& batch) {
    for (uint32_t i = from; i < to; ++i) batch.Delete(chunks, chunk_key(key, i));
  }
  // Deletes key's object and records under its (held) lock, adding them to `batch`; returns the
  // accounted bytes that the batch frees.
  uint64_t delete_locked(std::string_view key, rocksdb::WriteBatch& batch);
  bool erase(std::string_view key);
  size_t erase_prefix(std::string_view prefix);
  // The index records under `prefix`, in batches of kBatch, each batch under its keys' locks.
  template <typename Fn>
  size_t for_each_indexed(std::string_view prefix, Fn&& fn);
  // Calls fn with batches of `keys` (kBatch at a time), each under its keys' locks.
  template <typename Fn>
  size_t for_each_batch(const std::vector<std::string>& keys, Fn&& fn);
  // Deletes the keys of one batch (their locks held); nullopt when the write failed.
  std::optional<size_t> erase_locked(const std::vector<std::string_view>& keys);
  bool mark_stale_locked(std::string_view key);
  void removed(std::string_view key) {
    if (on_removed) on_removed(key);
  }

  void maybe_evict();
  void evictor();
  void stop_evictor();
  void wait_evict_idle();
  bool evict_once(uint64_t target);  // false: nothing could be evicted

  void maybe_reconcile();
  void reconcile();

  rocksdb::Status recover(bool migrate);
};

// ---- writes ---------------------------------------------------------------------------------

rocksdb::Status DiskTier::Impl::write_chunks(const CachedObject& obj, const ChunkLayout& layout) {
  const int64_t expires = expires_at_s(obj.meta);
  const auto& blocks = obj.body.chunks;
  size_t block = 0, offset = 0;  // read position in the body's blocks
  std::string data;
  rocksdb::WriteBatch batch;
  for (uint32_t i = 0; i < layout.chunk_count; ++i) {
    const size_t want = size_t(
        std::min<uint64_t>(layout.chunk_size, obj.body.size - uint64_t(i) * layout.chunk_size));
    data.clear();
    while (data.size() < want && block < blocks.size()) {
      const std::string& b = *blocks[block];
      size_t n = std::min(want - data.size(), b.size() - offset);
      data.append(b, offset, n);
      offset += n;
      if (offset == b.size()) ++block, offset = 0;
    }
    if (data.size() != want) return rocksdb::Status::Corruption("body shorter than its size");
    batch.Put(chunks, chunk_key(obj.key_text, i), encode_chunk(expires, layout, i, data));
    if (batch.GetDataSize() >= kChunkBatchBytes || i + 1 == layout.chunk_count) {
      if (auto st = db->Write(rocksdb::WriteOptions(), &batch); !st.ok()) return st;
      batch.Clear();
    }
  }
  return rocksdb::Status::OK();
}

rocksdb::Status DiskTier::Impl::put(const CachedObject& obj) {
  const ChunkLayout layout = layout_for(obj.body.size, new_generation());
  std::string value = encode_head(obj, layout);
  uint64_t size =
      value.size() + obj.key_text.size() +
      (layout.chunked() ? chunk_records_size(obj.key_text.size(), obj.body.size, layout) : 0);
  if (max_bytes != 0 && size > max_bytes) {
    stats->too_large.fetch_add(1, std::memory_order_relaxed);
    return rocksdb::Status::Incomplete("larger than max_bytes");
  }
  // A failure part way leaves chunk records no head points at; they carry the object's expiry,
  // so the compaction filter reclaims them.
  if (layout.chunked()) {
    if (auto st = write_chunks(obj, layout); !st.ok()) return st;
  }
  rocksdb::Status st;
  {
    std::lock_guard lock(stripes[stripe_of(obj.key_text)]);
    auto old = read_index(obj.key_text);
    uint64_t seq = begin_seq();
    rocksdb::WriteBatch batch;
    batch.Put(objects, slice(obj.key_text), value);
    batch.Put(index, slice(obj.key_text), disk::encode_index({seq, size, layout.chunk_count}));
    batch.Put(order, disk::encode_seq(seq), disk::encode_order(size, obj.key_text));
    disk::delete_tags(db.get(), tags, obj.key_text, batch);
    disk::put_tags(tags, obj.key_text, surrogate_keys(obj.meta.headers), batch);
    if (old) {
      batch.Delete(order, disk::encode_seq(old->seq));
      // The old version's chunks below the new count were overwritten; the rest go now.
      delete_chunks(obj.key_text, layout.chunk_count, old->chunks, batch);
    }
    st = db->Write(rocksdb::WriteOptions(), &batch);
    if (st.ok()) {
      add_live(size);
      if (old) sub_live(old->size);
    }
    end_seq(seq);
  }
  if (st.ok()) maybe_evict();
  maybe_reconcile();
  return st;
}

uint64_t DiskTier::Impl::delete_locked(std::string_view key, rocksdb::WriteBatch& batch) {
  batch.Delete(objects, slice(key));
  disk::delete_tags(db.get(), tags, key, batch);
  auto idx = read_index(key);
  if (!idx) return 0;
  batch.Delete(index, slice(key));
  batch.Delete(order, disk::encode_seq(idx->seq));
  delete_chunks(key, 0, idx->chunks, batch);
  return idx->size;
}

bool DiskTier::Impl::erase(std::string_view key) {
  std::lock_guard lock(stripes[stripe_of(key)]);
  // Existence is checked first only to answer the caller; purges are rare.
  rocksdb::PinnableSlice value;
  bool existed = db->Get(read_options(), objects, slice(key), &value).ok();
  rocksdb::WriteBatch batch;
  uint64_t freed = delete_locked(key, batch);
  rocksdb::Status st = db->Write(rocksdb::WriteOptions(), &batch);
  if (st.ok()) sub_live(freed);
  return existed && st.ok();
}

template <typename Fn>
size_t DiskTier::Impl::for_each_indexed(std::string_view prefix, Fn&& fn) {
  // Every stored object has an index record, so the small index family is scanned rather than the
  // objects (whose iteration would read every blob). Objects the expiry filter already dropped
  // still count until reconciled.
  rocksdb::ReadOptions ro = read_options();
  ro.fill_cache = false;  // a purge scan must not evict the block cache's hot entries
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, index));
  size_t n = 0;
  it->Seek(slice(prefix));
  while (it->Valid() && it->key().starts_with(slice(prefix))) {
    std::vector<std::string> keys;
    for (; it->Valid() && it->key().starts_with(slice(prefix)) && keys.size() < kBatch; it->Next()) {
      keys.emplace_back(view(it->key()));
    }
    std::vector<std::string_view> views(keys.begin(), keys.end());
    auto locks = lock_keys(views);
    auto done = fn(views);
    if (!done) return n;
    n += *done;
  }
  return n;
}

std::optional<size_t> DiskTier::Impl::erase_locked(const std::vector<std::string_view>& keys) {
  rocksdb::WriteBatch batch;
  uint64_t freed = 0;
  size_t found = 0;
  for (auto k : keys) {
    if (!read_index(k)) continue;  // raced with another erase, or not stored
    freed += delete_locked(k, batch);
    ++found;
  }
  if (!db->Write(rocksdb::WriteOptions(), &batch).ok()) return std::nullopt;
  sub_live(freed);
  return found;
}

size_t DiskTier::Impl::erase_prefix(std::string_view prefix) {
  return for_each_indexed(prefix, [this](const std::vector<std::string_view>& keys) { return erase_locked(keys); });
}

template <typename Fn>
size_t DiskTier::Impl::for_each_batch(const std::vector<std::string>& keys, Fn&& fn) {
  size_t n = 0;
  for (size_t i = 0; i < keys.size(); i += kBatch) {
    std::vector<std::string_view> views(keys.begin() + i, keys.begin() + std::min(keys.size(), i + kBatch));
    auto locks = lock_keys(views);
    auto done = fn(views);
    if (!done) return n;
    n += *done;
  }
  return n;
}

bool DiskTier::Impl::mark_stale_locked(std::string_view key) {
  std::string value;
  if (!db->Get(read_options(), objects, slice(key), &value).ok()) return false;
  auto head = decode_head(value);
  if (!head) return false;  // read_head drops it when a request meets it
  if (head->object.meta.soft_purged) return true;
  head->object.meta.soft_purged = true;
  std::string marked = encode_head(head->object, head->layout);
  rocksdb::WriteBatch batch;
  if (marked.size() == value.size()) {
    // Same size (the flags byte was there, cleared): the accounting records stay true.
    batch.Put(objects, slice(key), marked);
    return db->Write(rocksdb::WriteOptions(), &batch).ok();
  }
  // A head written before the flags byte existed: rewriting it would change its accounted size,
  // so the object goes (a hard purge of this one object; the next request refetches it).
  uint64_t freed = delete_locked(key, batch);
  if (db->Write(rocksdb::WriteOptions(), &batch).ok()) sub_live(freed);
  return true;
}

// ---- eviction -------------------------------------------------------------------------------

void DiskTier::Impl::maybe_evict() {
  if (max_bytes == 0 || live_bytes.load(std::memory_order_relaxed) <= max_bytes) return;
  {
    std::lock_guard lock(ev_mu);
    ev_wanted = true;
  }
  ev_cv.notify_one();
}

void DiskTier::Impl::evictor() {
  std::unique_lock lock(ev_mu);
  while (true) {
    ev_cv.wait(lock, [this] { return ev_stop || ev_wanted; });
    if (ev_stop) return;  // what is left over is evicted after the next open
    ev_wanted = false;
    ev_running = true;
    lock.unlock();
    // Stops early when nothing is evictable yet (records still being written): the put that
    // lands them asks again.
    while (live_bytes.load(std::memory_order_relaxed) > low_water && evict_once(low_water)) {
    }
    lock.lock();
    ev_running = false;
    if (!ev_wanted) ev_idle_cv.notify_all();
  }
}

void DiskTier::Impl::stop_evictor() {
  if (!ev_thread.joinable()) return;
  {
    std::lock_guard lock(ev_mu);
    ev_stop = true;
  }
  ev_cv.notify_one();
  ev_thread.join();
}

void DiskTier::Impl::wait_evict_idle() {
  std::unique_lock lock(ev_mu);
  ev_idle_cv.wait(lock, [this] { return ev_stop || (!ev_wanted && !ev_running); });
}

bool DiskTier::Impl::evict_once(uint64_t target) {
  // Records below `settled` are all visible to an iterator opened after this point.
  const uint64_t settled = settled_below();
  const std::string lower = disk::encode_seq(evict_cursor), upper = disk::encode_seq(settled);
  rocksdb::Slice lower_s(lower), upper_s(upper);
  rocksdb::ReadOptions ro = read_options();
  ro.fill_cache = false;
  ro.iterate_lower_bound = &lower_s;  // the tombstones of earlier evictions lie below the cursor
  ro.iterate_upper_bound = &upper_s;

  struct Candidate {
    uint64_t seq;
    disk::OrderEntry entry;
  };
  std::vector<Candidate> cands;
  uint64_t planned = 0;
  const uint64_t live = live_bytes.load(std::memory_order_relaxed);
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, order));
    for (it->Seek(lower_s); it->Valid() && cands.size() < kBatch && live - std::min(live, planned) > target;
         it->Next()) {
      auto seq = disk::decode_seq(view(it->key()));
      auto entry = disk::decode_order(view(it->value()));
      if (!seq) continue;  // not ours; cannot be addressed by seq either
      if (!entry) entry = disk::OrderEntry{};
      planned += entry->size;
      cands.push_back({*seq, std::move(*entry)});
    }
    if (!it->status().ok()) return false;
  }
  if (cands.empty()) return false;

  std::vector<std::string_view> keys;
  keys.reserve(cands.size());
  for (auto& c : cands) keys.push_back(c.entry.key_text);
  uint64_t freed = 0, evicted = 0, evicted_bytes = 0;
  std::vector<std::string_view> gone;  // evicted, not overwritten since the scan
  {
    auto locks = lock_keys(keys);
    rocksdb::WriteBatch batch;
    for (auto& c : cands) {
      auto idx = read_index(c.entry.key_text);
      if (idx && idx->seq == c.seq) {
        batch.Delete(objects, slice(c.entry.key_text));
        batch.Delete(index, slice(c.entry.key_text));
        batch.Delete(order, disk::encode_seq(c.seq));
        delete_chunks(c.entry.key_text, 0, idx->chunks, batch);
        disk::delete_tags(db.get(), tags, c.entry.key_text, batch);
        gone.push_back(c.entry.key_text);
        freed += idx->size;
        ++evicted;
        evicted_bytes += idx->size;
      } else if (order_exists(c.seq)) {
        // An orphan (no index record points at it): dropping it is only bookkeeping.
        batch.Delete(order, disk::encode_seq(c.seq));
        freed += c.entry.size;
      }
      // else: overwritten or erased since the scan, which already did the accounting.
    }
    if (!db->Write(rocksdb::WriteOptions(), &batch).ok()) return false;
    sub_live(freed);
  }
  for (auto k : gone) removed(k);
  stats->evictions.fetch_add(evicted, std::memory_order_relaxed);
  stats->evicted_bytes.fetch_add(evicted_bytes, std::memory_order_relaxed);
  evict_cursor = cands.back().seq + 1;
  return true;
}

// ---- records of objects the expiry filter dropped -------------------------------------------

void DiskTier::Impl::maybe_reconcile() {
  if (!dropped.pending() || reconciling.exchange(true)) return;
  pool->submit([this] {
    reconcile();
    reconciling.store(false);
  });
}

void DiskTier::Impl::reconcile() {
  std::vector<std::string> all = dropped.take();
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  for (size_t i = 0; i < all.size(); i += kBatch) {
    std::vector<std::string_view> keys(all.begin() + i, all.begin() + std::min(all.size(), i + kBatch));
    auto locks = lock_keys(keys);
    rocksdb::WriteBatch batch;
    uint64_t freed = 0;
    std::vector<std::string_view> gone;
    for (auto k : keys) {
      auto idx = read_index(k);
      if (!idx) continue;
      // The filter may have dropped an older version only; a live object keeps its records.
      rocksdb::PinnableSlice value;
      if (!db->Get(read_options(), objects, slice(k), &value).IsNotFound()) continue;
      batch.Delete(index, slice(k));
      batch.Delete(order, disk::encode_seq(idx->seq));
      delete_chunks(k, 0, idx->chunks, batch);
      disk::delete_tags(db.get(), tags, k, batch);
      freed += idx->size;
      gone.push_back(k);
    }
    if (batch.Count() == 0) continue;
    if (db->Write(rocksdb::WriteOptions(), &batch).ok()) sub_live(freed);
    for (auto k : gone) removed(k);
  }
}

// ---- open -----------------------------------------------------------------------------------

rocksdb::Status DiskTier::Impl::recover(bool migrate) {
  rocksdb::ReadOptions ro = read_options();
  ro.fill_cache = false;
  if (migrate) {
    // A database written before size accounting: record what it holds, in key order (its
    // insertion order is unknown). One pass over the objects, once.
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, objects));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t size = it->key().size() + it->value().size();
      uint64_t seq = next_seq++;
      batch.Put(index, it->key(), disk::encode_index({seq, size}));
      batch.Put(order, disk::encode_seq(seq), disk::encode_order(size, view(it->key())));
      if (batch.Count() >= 2 * kBatch) {
        if (auto st = db->Write(rocksdb::WriteOptions(), &batch); !st.ok()) return st;
        batch.Clear();
      }
    }
    if (!it->status().ok()) return it->status();
    if (auto st = db->Write(rocksdb::WriteOptions(), &batch); !st.ok()) return st;
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, order));
  uint64_t total = 0;
  bool first = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto seq = disk::decode_seq(view(it->key()));
    auto entry = disk::decode_order(view(it->value()));
    if (!seq) continue;
    if (first) evict_cursor = *seq;
    first = false;
    next_seq = *seq + 1;
    if (entry) total += entry->size;
  }
  if (!it->status().ok()) return it->status();
  live_bytes.store(total);
  return rocksdb::Status::OK();
}

Result<std::unique_ptr<DiskTier>> DiskTier::open(const DiskOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->filter = std::make_unique<disk::RecordingCompactionFilter>(
      std::make_unique<ExpiryCompactionFilter>(options.now_s ? options.now_s : [] { return unix_now(); }),
      &impl->dropped);
  impl->chunk_filter = std::make_unique<ExpiryCompactionFilter>(
      options.now_s ? options.now_s : [] { return unix_now(); });
  impl->max_bytes = options.max_bytes;
  impl->low_water = options.max_bytes - options.max_bytes / 10;

  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.paranoid_checks = true;
  db_opts.max_background_jobs = 2;

  rocksdb::ColumnFamilyOptions obj_opts;
  obj_opts.enable_blob_files = true;
  obj_opts.min_blob_size = options.blob_min_size;
  // Overwritten, evicted and deleted bodies are reclaimed from blob files only by blob GC; with
  // FIFO eviction the oldest blob files are the emptiest, so force their compaction early.
  obj_opts.enable_blob_garbage_collection = true;
  obj_opts.blob_garbage_collection_force_threshold = 0.5;
  if (options.max_bytes != 0) {
    // Small blob files (a 16th of the cap, 8..256 MiB) let GC give space back in finer steps.
    obj_opts.blob_file_size = std::clamp<uint64_t>(options.max_bytes / 16, 8u << 20, 256u << 20);
  }
  obj_opts.compaction_filter = impl->filter.get();
  obj_opts.table_properties_collector_factories.push_back(deletion_compactor());
  rocksdb::ColumnFamilyOptions chunk_opts = obj_opts;
  chunk_opts.compaction_filter = impl->chunk_filter.get();
  rocksdb::ColumnFamilyOptions rec_opts;
  rec_opts.table_properties_collector_factories.push_back(deletion_compactor());

  // A database from before size accounting has only the default family: migrate it.
  std::vector<std::string> existing;
  bool migrate = false;
  if (rocksdb::DB::ListColumnFamilies(db_opts, options.path, &existing).ok()) {
    migrate = std::find(existing.begin(), existing.end(), disk::kOrderFamily) == existing.end();
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, obj_opts},
      {disk::kIndexFamily, rec_opts},
      {disk::kOrderFamily, rec_opts},
      {disk::kChunksFamily, chunk_opts},
      {disk::kTagsFamily, rec_opts}};
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(db_opts, options.path, families, &impl->handles, &raw);
  if (!st.ok()) return make_error("disk cache: open " + options.path + ": " + st.ToString());
  impl->db.reset(raw);
  impl->objects = impl->handles[0];
  impl->index = impl->handles[1];
  impl->order = impl->handles[2];
  impl->chunks = impl->handles[3];
  impl->tags = impl->handles[4];
  impl->on_removed = options.on_removed;
  impl->pool = std::make_unique<ThreadPool>(options.io_threads);

  auto tier = std::unique_ptr<DiskTier>(new DiskTier(std::move(impl)));
  tier->impl_->stats = &tier->stats_;
  st = tier->impl_->recover(migrate);
  if (!st.ok()) return make_error("disk cache: recover " + options.path + ": " + st.ToString());
  tier->impl_->ev_thread = std::thread([impl = tier->impl_.get()] { impl->evictor(); });
  tier->impl_->maybe_evict();  // the cap may have been lowered since the last run
  return tier;
}

DiskTier::DiskTier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DiskTier::~DiskTier() {
  impl_->pool.reset();
  impl_->stop_evictor();
  for (auto* h : impl_->handles) impl_->db->DestroyColumnFamilyHandle(h);
  impl_->handles.clear();
  // Close() flushes nothing by itself but reports errors that the destructor would swallow anyway;
  // with the WAL on, unflushed writes are recovered on the next open.
  impl_->db->Close();
  impl_->db.reset();
}

// ---- public calls ---------------------------------------------------------------------------

std::optional<StoredHead> DiskTier::read_head(std::string_view key_text) {
  rocksdb::PinnableSlice value;
  rocksdb::Status st = impl_->db->Get(read_options(), impl_->objects, slice(key_text), &value);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) {
    // RocksDB's own checksums caught it (block or blob record); I/O errors are not corruption.
    if (st.IsCorruption()) drop_corrupt(key_text);
    return std::nullopt;
  }
  auto head = decode_head(std::string_view(value.data(), value.size()));
  if (!head || head->object.key_text != key_text) {
    drop_corrupt(key_text);
    return std::nullopt;
  }
  if (head->format_version != kFormatVersion)
    stats_.legacy_reads.fetch_add(1, std::memory_order_relaxed);
  return std::move(head.value());
}

std::optional<StoredHead> DiskTier::get_head_sync(std::string_view key_text) {
  auto head = read_head(key_text);
  (head ? stats_.hits : stats_.misses).fetch_add(1, std::memory_order_relaxed);
  return head;
}

Result<Body> DiskTier::read_range_sync(const StoredHead& head, uint64_t first, uint64_t last) {
  const uint64_t size = head.object.meta.body_size;
  if (head.layout.chunked())
    return read_range_sync(BodyOnDisk{this, head.object.key_text, head.layout, size}, first, last);
  if (first > last || last >= size) return make_error("disk cache: range outside the body");
  // The head holds the body as one block.
  Body out;
  const Bytes& all = head.object.body.chunks.front();
  if (first == 0 && last + 1 == size) {
    out.append(all);
  } else {
    out.append(make_bytes(std::string_view(*all).substr(first, last - first + 1)));
  }
  return out;
}

Result<Body> DiskTier::read_range_sync(const BodyOnDisk& body, uint64_t first, uint64_t last) {
  if (first > last || last >= body.size) return make_error("disk cache: range outside the body");
  const ChunkLayout& l = body.layout;
  Body out;
  for (uint32_t i = l.chunk_of(first); i <= l.chunk_of(last); ++i) {
    rocksdb::PinnableSlice value;
    rocksdb::Status st =
        impl_->db->Get(read_options(), impl_->chunks, chunk_key(body.key_text, i), &value);
    if (!st.ok())
      return make_error("disk cache: chunk " + std::to_string(i) + ": " + st.ToString());
    auto data = decode_chunk(std::string_view(value.data(), value.size()), l, i, body.size);
    if (!data) return data.error();
    stats_.chunk_reads.fetch_add(1, std::memory_order_relaxed);
    const uint64_t begin = uint64_t(i) * l.chunk_size;
    const uint64_t from = std::max(first, begin) - begin,
                   to = std::min(last + 1, begin + data->size()) - begin;
    out.append(make_bytes(data->substr(size_t(from), size_t(to - from))));
  }
  return out;
}

ObjectRef DiskTier::get_sync(std::string_view key_text) {
  return load_body(key_text, read_head(key_text));
}

ObjectRef DiskTier::load_body(std::string_view key_text, std::optional<StoredHead> head) {
  if (head && head->layout.chunked()) {
    auto body = read_range_sync(*head, 0, head->object.meta.body_size - 1);
    if (!body) {
      // A chunk of another generation means the key was rewritten meanwhile (a miss); the same
      // head with a bad or missing chunk is a broken object.
      auto again = read_head(key_text);
      if (again && again->layout.generation == head->layout.generation) drop_corrupt(key_text);
      head.reset();
    } else {
      head->object.body = std::move(body.value());
    }
  }
  if (!head) {
    stats_.misses.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  stats_.hits.fetch_add(1, std::memory_order_relaxed);
  return std::make_shared<const CachedObject>(std::move(head->object));
}

void DiskTier::drop_corrupt(std::string_view key_text) {
  stats_.corrupt.fetch_add(1, std::memory_order_relaxed);
  impl_->erase(key_text);  // best effort: a miss either way
}

void DiskTier::get_async(std::string key_text, std::function<void(ObjectRef)> done) {
  impl_->pool->submit([this, key = std::move(key_text), done = std::move(done)] {
    ObjectRef obj;
    try {
      auto head = read_head(key);
      if (head && head->layout.chunked() && head->object.meta.body_size > kResidentBodyMax) {
        stats_.hits.fetch_add(1, std::memory_order_relaxed);
        auto o = std::make_shared<CachedObject>(std::move(head->object));
        o->on_disk = std::make_shared<const BodyOnDisk>(
            BodyOnDisk{this, key, head->layout, o->meta.body_size});
        obj = std::move(o);
      } else {
        obj = load_body(key, std::move(head));
      }
    } catch (...) {
      obj = nullptr;  // e.g. bad_alloc on a huge body: a miss, and the waiter still gets its answer
    }
    done(std::move(obj));
  });
}

void DiskTier::get_head_async(std::string key_text,
                              std::function<void(std::optional<StoredHead>)> done) {
  impl_->pool->submit([this, key = std::move(key_text), done = std::move(done)] {
    std::optional<StoredHead> head;
    try {
      head = get_head_sync(key);
    } catch (...) {
      head.reset();
    }
    done(std::move(head));
  });
}

void DiskTier::read_range_async(std::shared_ptr<const BodyOnDisk> body, uint64_t first,
                                uint64_t last, std::function<void(Result<Body>)> done) {
  impl_->pool->submit([this, body = std::move(body), first, last, done = std::move(done)] {
    Result<Body> out = make_error("disk cache: read failed");
    try {
      out = read_range_sync(*body, first, last);
    } catch (...) {
    }
    done(std::move(out));
  });
}

void DiskTier::put_async(ObjectRef obj, std::function<void()> done) {
  if (!obj) return;
  impl_->pool->submit([this, obj = std::move(obj), done = std::move(done)] {
    rocksdb::Status st;
    try {
      st = impl_->put(*obj);
    } catch (...) {
      st = rocksdb::Status::Aborted("serialize failed");
    }
    if (!st.IsIncomplete()) (st.ok() ? stats_.writes : stats_.write_errors).fetch_add(1, std::memory_order_relaxed);
    if (done) done();
  });
}

void DiskTier::erase_async(std::string key_text) {
  impl_->pool->submit([this, key = std::move(key_text)] { impl_->erase(key); });
}

bool DiskTier::erase(std::string_view key_text) { return impl_->erase(key_text); }

size_t DiskTier::erase_prefix(std::string_view prefix) { return impl_->erase_prefix(prefix); }

bool DiskTier::mark_stale(std::string_view key_text) {
  std::lock_guard lock(impl_->stripes[impl_->stripe_of(key_text)]);
  return impl_->mark_stale_locked(key_text);
}

size_t DiskTier::mark_stale_prefix(std::string_view prefix) {
  return impl_->for_each_indexed(prefix, [this](const std::vector<std::string_view>& keys) -> std::optional<size_t> {
    size_t n = 0;
    for (auto k : keys) n += impl_->mark_stale_locked(k) ? 1 : 0;
    return n;
  });
}

size_t DiskTier::erase_many(const std::vector<std::string>& keys) {
  return impl_->for_each_batch(keys, [this](const std::vector<std::string_view>& batch) {
    return impl_->erase_locked(batch);
  });
}

size_t DiskTier::mark_stale_many(const std::vector<std::string>& keys) {
  return impl_->for_each_batch(keys, [this](const std::vector<std::string_view>& batch) -> std::optional<size_t> {
    size_t n = 0;
    for (auto k : batch) n += impl_->mark_stale_locked(k) ? 1 : 0;
    return n;
  });
}

std::vector<std::string> DiskTier::objects_with_tag(std::string_view key) {
  return disk::objects_with_tag(impl_->db.get(), impl_->tags, key);
}

void DiskTier::for_each_object_tags(
    const std::function<void(std::string_view, const std::vector<std::string>&)>& fn) {
  disk::for_each_object_tags(impl_->db.get(), impl_->tags, fn);
}

uint64_t DiskTier::bytes() const { return impl_->live_bytes.load(std::memory_order_relaxed); }

void DiskTier::wait_idle() {
  // Puts finish first; any eviction they asked for has been asked for by then.
  impl_->pool->wait_idle();
  impl_->wait_evict_idle();
}

Result<void> DiskTier::compact_all() {
  rocksdb::Status st;
  for (auto* h : impl_->handles) {
    st = impl_->db->Flush(rocksdb::FlushOptions(), h);
    if (!st.ok()) break;
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    st = impl_->db->CompactRange(cro, h, nullptr, nullptr);
    if (!st.ok()) break;
  }
  if (!st.ok()) return make_error("disk cache: compact: " + st.ToString());
  // The expiry filter ran: drop the records of what it removed before returning.
  impl_->reconcile();
  return {};
}

}  // namespace cdn::cache
