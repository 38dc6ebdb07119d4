#pragma once
// Surrogate-key records of the disk tier, in their own column family (kTagsFamily), written and
// deleted in the same batches as the objects they describe, so a restart finds exactly the keys of
// the objects still stored:
//   "k" key NUL key_text -> ""                     (the objects of a surrogate key: a prefix scan)
//   "o" key_text         -> key NUL key NUL ...    (an object's keys, to delete the records above)
// Surrogate keys hold no NUL (surrogate_keys.h), so "k" key NUL is an exact prefix.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::cache::disk {

inline constexpr const char* kTagsFamily = "tags";

std::string tag_prefix(std::string_view key);
std::string tag_record(std::string_view key, std::string_view key_text);
std::string object_tags_record(std::string_view key_text);

// Adds the records of `key_text` carrying `keys` to `batch`.
void put_tags(rocksdb::ColumnFamilyHandle* cf, std::string_view key_text,
              const std::vector<std::string>& keys, rocksdb::WriteBatch& batch);
// Adds the deletion of every record of `key_text` (read from the "o" record) to `batch`.
void delete_tags(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view key_text,
                 rocksdb::WriteBatch& batch);
// The key texts recorded under surrogate key `key`.
std::vector<std::string> objects_with_tag(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                          std::string_view key);
// Every object's keys, one call per object (to rebuild the in-memory index at start).
void for_each_object_tags(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
    const std::function<void(std::string_view key_text, const std::vector<std::string>& keys)>& fn);

}  // namespace cdn::cache::disk
