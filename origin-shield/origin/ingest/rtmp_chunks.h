#pragma once
// The RTMP chunk stream (RTMP spec section 5.3): messages split into chunks of the negotiated size,
// interleaved by chunk stream id, with 4 header types and 32-bit extended timestamps. The reader
// reassembles messages from any split of the input and applies the peer's Set Chunk Size (type 1)
// and Abort (type 2) itself; the writer sends whole messages with type-0 and type-3 headers.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace cdn::origin::ingest {

struct RtmpMessage {
  uint8_t type = 0;
  uint32_t stream_id = 0;
  uint32_t timestamp = 0;  // ms, already extended and accumulated from deltas
  std::string payload;
};

struct RtmpChunkLimits {
  size_t max_chunk_size = 1 << 16;    // largest Set Chunk Size accepted
  size_t max_message_size = 4 << 20;  // largest message accepted
  size_t max_chunk_streams = 64;      // chunk stream ids in use at once
};

class RtmpChunkReader {
 public:
  using OnMessage = std::function<void(RtmpMessage&&)>;
  RtmpChunkReader(RtmpChunkLimits limits, OnMessage on_message)
      : limits_(limits), on_message_(std::move(on_message)) {}

  // Consumes data; an error reason ("rtmp-bad-chunk", "rtmp-message-too-large", ...) ends the
  // stream (the reader must not be fed again).
  const char* feed(std::string_view data);
  // Bytes buffered while waiting for the rest of a chunk (bounded by one chunk and its header).
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  struct Header {
    uint32_t timestamp = 0, delta = 0, length = 0, stream_id = 0;
    uint8_t type = 0;
    bool extended = false;  // the last header carried an extended timestamp
    bool started = false;   // a header of type 0 was seen
  };
  struct ChunkStream {
    Header h;
    std::string payload;  // the message being reassembled
  };
  // One chunk from buf_ at pos_: 1 = consumed, 0 = need more bytes, else an error reason.
  const char* parse_one(bool& consumed);
  const char* deliver(ChunkStream& cs);

  RtmpChunkLimits limits_;
  OnMessage on_message_;
  size_t chunk_size_ = 128;  // RTMP's initial chunk size
  std::map<uint32_t, ChunkStream> streams_;
  std::string buf_;
  size_t pos_ = 0;
};

// Appends `payload` as one message on chunk stream `csid` (2..63) in chunks of `chunk_size`.
void rtmp_write_message(std::string& out, uint8_t csid, uint8_t type, uint32_t stream_id,
                        uint32_t timestamp, std::string_view payload, size_t chunk_size);

}  // namespace cdn::origin::ingest
