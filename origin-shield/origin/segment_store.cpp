#include "origin-shield/origin/segment_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "common/obs/log.h"
#include "common/obs/metrics.h"

namespace cdn::origin {
namespace {

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

std::string encode_segment(int64_t completed_ms, const std::string& data) {
  std::string v(8 + data.size(), '\0');
  uint64_t t = uint64_t(completed_ms);
  for (int i = 0; i < 8; ++i) v[size_t(i)] = char((t >> (8 * i)) & 0xFF);
  std::memcpy(v.data() + 8, data.data(), data.size());
  return v;
}

}  // namespace

Result<std::shared_ptr<SegmentStore>> SegmentStore::open(const std::string& path) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.compression = rocksdb::kNoCompression;  // TS does not compress
  opts.max_open_files = 256;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(opts, path, &raw);
  if (!st.ok()) return Error{"live store " + path + ": " + st.ToString()};
  std::shared_ptr<SegmentStore> s(new SegmentStore());
  s->db_.reset(raw);
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

SegmentStore::~SegmentStore() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (db_) db_->Close();
}

std::string SegmentStore::segment_key(std::string_view channel, std::string_view rendition, uint64_t seq) {
  char num[24];
  snprintf(num, sizeof num, "%020" PRIu64, seq);
  std::string k = "s/";
  k.append(channel).append("/").append(rendition).append("/").append(num);
  return k;
}

std::string SegmentStore::state_key(std::string_view channel, std::string_view rendition) {
  return std::string("p/").append(channel).append("/").append(rendition);
}

std::string SegmentStore::meta_key(std::string_view channel, std::string_view rendition) {
  return std::string("m/").append(channel).append("/").append(rendition);
}

void SegmentStore::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stop_ and nothing left
    auto job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lk.unlock();
    job();
    lk.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

void SegmentStore::flush() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return (queue_.empty() && !busy_) || !thread_.joinable(); });
}

uint64_t SegmentStore::write_errors() const {
  std::lock_guard lk(mu_);
  return write_errors_;
}

void SegmentStore::put_segment(std::string_view channel, std::string_view rendition, uint64_t seq,
                               int64_t completed_ms, std::string data, std::string state, std::string meta) {
  auto job = [this, skey = segment_key(channel, rendition, seq), pkey = state_key(channel, rendition),
              mkey = meta_key(channel, rendition), completed_ms, data = std::move(data),
              state = std::move(state), meta = std::move(meta)] {
    rocksdb::WriteBatch batch;
    batch.Put(slice(skey), encode_segment(completed_ms, data));
    if (!state.empty()) batch.Put(slice(pkey), slice(state));
    if (!meta.empty()) batch.Put(slice(mkey), slice(meta));
    rocksdb::Status st = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!st.ok()) {
      {
        std::lock_guard lk(mu_);
        ++write_errors_;
      }
      obs::metrics().counter("cdn_live_store_errors_total", "Live segment store write failures").inc();
      obs::log(obs::Level::Error, "live store write failed", {{"key", skey}, {"error", st.ToString()}});
    }
  };
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void SegmentStore::put(std::string key, std::string value) {
  auto job = [this, key = std::move(key), value = std::move(value)] {
    rocksdb::Status st = db_->Put(rocksdb::WriteOptions(), slice(key), slice(value));
    if (!st.ok()) {
      obs::metrics().counter("cdn_live_store_errors_total", "Live segment store write failures").inc();
      obs::log(obs::Level::Error, "live store write failed", {{"key", key}, {"error", st.ToString()}});
    }
  };
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void SegmentStore::remove_segments(std::string_view channel, std::string_view rendition,
                                   std::vector<uint64_t> seqs) {
  std::vector<std::string> keys;
  keys.reserve(seqs.size());
  for (uint64_t s : seqs) keys.push_back(segment_key(channel, rendition, s));
  remove(std::move(keys));
}

void SegmentStore::remove(std::vector<std::string> keys) {
  if (keys.empty()) return;
  auto job = [this, keys = std::move(keys)] {
    rocksdb::WriteBatch batch;
    for (const std::string& k : keys) batch.Delete(k);
    db_->Write(rocksdb::WriteOptions(), &batch);
  };
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::optional<StoredSegment> SegmentStore::get_segment(std::string_view channel, std::string_view rendition,
                                                       uint64_t seq) const {
  std::string v;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), slice(segment_key(channel, rendition, seq)), &v);
  if (!st.ok() || v.size() < 8) return std::nullopt;
  StoredSegment s;
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t |= uint64_t(uint8_t(v[size_t(i)])) << (8 * i);
  s.completed_ms = int64_t(t);
  s.data = v.substr(8);
  return s;
}

std::optional<std::string> SegmentStore::get(const std::string& key) const {
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), slice(key), &v).ok()) return std::nullopt;
  return v;
}

std::vector<std::pair<std::string, std::string>> SegmentStore::scan(const std::string& prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next())
    out.emplace_back(it->key().ToString(), it->value().ToString());
  return out;
}

std::vector<std::string> SegmentStore::keys(const std::string& prefix) const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next())
    out.push_back(it->key().ToString());
  return out;
}

std::vector<uint64_t> SegmentStore::segment_sequences(std::string_view channel,
                                                      std::string_view rendition) const {
  std::string prefix = std::string("s/").append(channel).append("/").append(rendition).append("/");
  std::vector<uint64_t> out;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
    std::string_view k(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    uint64_t v = 0;
    for (char c : k) v = v * 10 + uint64_t(c - '0');
    out.push_back(v);
  }
  return out;
}

}  // namespace cdn::origin
