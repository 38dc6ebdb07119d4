#pragma once
// What the cache stores for one key, and its on-disk encoding.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/bytes.h"
#include "common/util/result.h"

namespace cdn::cache {

struct StoredHeader {
  std::string name, value;
};

struct ObjectMeta {
  int status = 200;
  std::vector<StoredHeader> headers;  // end-to-end response headers as received (caller strips hop-by-hop)
  int64_t request_time_ms = 0, response_time_ms = 0;  // unix ms around the upstream fetch
  int64_t date_s = 0;            // Date header (or response time) in unix seconds
  int64_t age_s = 0;             // Age header value at receipt
  int64_t fresh_lifetime_s = 0;  // computed when stored (freshness.h)
  int64_t stale_while_revalidate_s = 0, stale_if_error_s = 0;
  bool must_revalidate = false;  // no-cache / must-revalidate / proxy-revalidate
  std::string etag, last_modified;
  uint64_t body_size = 0;
  // Soft-purged: stale from the purge on, whatever its age says (purge_marks.h). Cleared by the
  // revalidation or refetch that replaces the object.
  bool soft_purged = false;
};

inline constexpr uint32_t kChunkSize = 256 * 1024;

struct ChunkLayout {
  uint64_t generation = 0;
  uint32_t chunk_count = 0;  // 0: the body is inside the head record
  uint32_t chunk_size = 0;   // kChunkSize when the format was written; taken from the head
  bool chunked() const { return chunk_count != 0; }
  // The chunk that holds byte `byte` of the body.
  uint32_t chunk_of(uint64_t byte) const { return uint32_t(byte / chunk_size); }
};
class DiskTier;

// A body left on the disk tier, to be read a range at a time (DiskTier::read_range_async) rather
// than held in memory: how objects too large to load whole come out of the disk tier.
struct BodyOnDisk {
  DiskTier* tier = nullptr;  // outlives every request (owned by the program)
  std::string key_text;
  ChunkLayout layout;
  uint64_t size = 0;
};

struct CachedObject {
  std::string key_text;
  ObjectMeta meta;
  Body body;  // empty when on_disk is set
  std::shared_ptr<const BodyOnDisk> on_disk;
  bool body_resident() const { return on_disk == nullptr; }
};
using ObjectRef = std::shared_ptr<const CachedObject>;

// ---- On-disk records (format version 2) ----------------------------------------------------
// Every record starts with a magic, its format version and, at byte 8, expires_at_s, so the
// expiry compaction filter reads any record without decoding it; an XXH3 checksum over every byte
// before it ends each record. A body of at most kChunkSize bytes is stored inside its head record
// (one read for a small object); a larger one in chunk records of kChunkSize bytes (the last may
// be shorter), each tagged with the head's generation so that a chunk of another version of the
// key is never taken for this one. Version 1 (one record holding meta and the whole body) is still
// read; anything else is an error, never a wrong body.
inline constexpr uint8_t kFormatVersion = 2;

// How a body of `size` bytes is laid out when written now.
ChunkLayout layout_for(uint64_t size, uint64_t generation);

struct StoredHead {
  CachedObject object;  // body filled when the layout is not chunked
  ChunkLayout layout;
  uint8_t format_version = 0;
};

// The head record; with an unchunked layout it carries the body.
std::string encode_head(const CachedObject& obj, const ChunkLayout& layout);
Result<StoredHead> decode_head(std::string_view data);
// Chunk `index` of an object whose head has `layout`: data is that chunk's bytes of the body.
std::string encode_chunk(int64_t expires_at_s, const ChunkLayout& layout, uint32_t index,
                         std::string_view data);
// The chunk's bytes (a view into data), checked against the head's generation, index and size.
Result<std::string_view> decode_chunk(std::string_view data, const ChunkLayout& layout,
                                      uint32_t index, uint64_t body_size);
// Chunk records are keyed key text + NUL + big-endian index: a key's chunks sort together, right
// after it, and no key text (a normalized URL) contains NUL.
std::string chunk_key(std::string_view key_text, uint32_t index);

// A whole object as one record (an unchunked head); the single-record form tools and tests use.
std::string serialize(const CachedObject& obj);
// Decodes a single record holding a whole body (version 1, or a version 2 unchunked head).
Result<CachedObject> deserialize(std::string_view data);

// The last unix second at which the object may be served at all, fresh or stale
// (fresh lifetime + max(swr, sie), no stale window when must_revalidate). Used by disk GC.
int64_t expires_at_s(const ObjectMeta& meta);

// Reads expires_at_s from the fixed-size start of any record (head of either version, or chunk)
// without touching (or verifying) the rest; nullopt if it is not a record this code knows.
std::optional<int64_t> peek_expires_at_s(std::string_view data);

}  // namespace cdn::cache
