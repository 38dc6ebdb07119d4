// Arbitrary bytes from disk must decode to an error or to records that re-encode identically:
// head records of either format version, and chunk records.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/cache/codec.h"
#include "common/cache/object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  cdn::cache::peek_expires_at_s(in);
  auto obj = cdn::cache::deserialize(in);
  if (obj) {
    auto again = cdn::cache::deserialize(cdn::cache::serialize(obj.value()));
    if (!again || again->body.flatten() != obj->body.flatten()) std::abort();
  }
  if (auto head = cdn::cache::decode_head(in); head && head->layout.chunked()) {
    auto again = cdn::cache::decode_head(cdn::cache::encode_head(head->object, head->layout));
    if (!again || again->layout.generation != head->layout.generation ||
        again->layout.chunk_count != head->layout.chunk_count || !again->object.body.chunks.empty())
      std::abort();
  }
  // As a chunk record: take the generation and index it claims, so the fuzzer can reach the data.
  if (size >= 28) {
    cdn::cache::ChunkLayout l;
    l.generation = cdn::cache::codec::load_u64(in.data() + 16);
    l.chunk_size = cdn::cache::kChunkSize;
    l.chunk_count = UINT32_MAX;
    uint32_t index = cdn::cache::codec::load_u32(in.data() + 24);
    uint64_t body_size = uint64_t(UINT32_MAX) * cdn::cache::kChunkSize;
    for (uint64_t tail = 0; tail < 2; ++tail) {  // a full chunk, or the last one
      uint64_t s = tail ? uint64_t(index) * l.chunk_size + (size > 40 ? size - 40 : 0) : body_size;
      auto chunk = cdn::cache::decode_chunk(in, l, index, s);
      if (!chunk) continue;
      auto expires = cdn::cache::peek_expires_at_s(in);
      if (!expires || cdn::cache::encode_chunk(*expires, l, index, *chunk) != in) std::abort();
    }
  }
  return 0;
}
