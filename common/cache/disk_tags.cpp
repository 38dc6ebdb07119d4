#include "common/cache/disk_tags.h"

#include <memory>

namespace cdn::cache::disk {

namespace {

rocksdb::ReadOptions scan_options() {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;  // a purge or start-up scan must not evict the block cache's hot entries
  return ro;
}

std::vector<std::string> split_keys(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t end = v.find('\0');
    out.emplace_back(v.substr(0, end));
    if (end == std::string_view::npos) break;
    v.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace

std::string tag_prefix(std::string_view key) {
  std::string r = "k";
  r.append(key);
  r.push_back('\0');
  return r;
}

std::string tag_record(std::string_view key, std::string_view key_text) {
  std::string r = tag_prefix(key);
  r.append(key_text);
  return r;
}

std::string object_tags_record(std::string_view key_text) {
  std::string r = "o";
  r.append(key_text);
  return r;
}

void put_tags(rocksdb::ColumnFamilyHandle* cf, std::string_view key_text,
              const std::vector<std::string>& keys, rocksdb::WriteBatch& batch) {
  if (keys.empty()) return;
  std::string joined;
  for (const auto& k : keys) {
    if (!joined.empty()) joined.push_back('\0');
    joined += k;
    batch.Put(cf, tag_record(k, key_text), rocksdb::Slice());
  }
  batch.Put(cf, object_tags_record(key_text), joined);
}

void delete_tags(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view key_text,
                 rocksdb::WriteBatch& batch) {
  std::string record = object_tags_record(key_text), v;
  if (!db->Get(rocksdb::ReadOptions(), cf, record, &v).ok()) return;
  for (const auto& k : split_keys(v)) batch.Delete(cf, tag_record(k, key_text));
  batch.Delete(cf, record);
}

std::vector<std::string> objects_with_tag(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                          std::string_view key) {
  std::vector<std::string> out;
  const std::string prefix = tag_prefix(key);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(scan_options(), cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  return out;
}

void for_each_object_tags(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                          const std::function<void(std::string_view key_text,
                                                   const std::vector<std::string>& keys)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(scan_options(), cf));
  for (it->Seek("o"); it->Valid() && it->key().starts_with("o"); it->Next()) {
    std::string_view key_text(it->key().data() + 1, it->key().size() - 1);
    fn(key_text, split_keys(std::string_view(it->value().data(), it->value().size())));
  }
}

}  // namespace cdn::cache::disk
