#include "origin-shield/origin/ingest/rtmp_chunks.h"

namespace cdn::origin::ingest {

namespace {

uint32_t be(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void put_be(std::string& out, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(char((v >> (8 * i)) & 0xFF));
}

constexpr uint8_t kSetChunkSize = 1, kAbort = 2;
constexpr uint32_t kExtended = 0xFFFFFF;

}  // namespace

const char* RtmpChunkReader::feed(std::string_view data) {
  buf_.append(data);
  for (;;) {
    bool consumed = false;
    if (const char* err = parse_one(consumed)) return err;
    if (!consumed) break;
  }
  buf_.erase(0, pos_);
  pos_ = 0;
  return nullptr;
}

const char* RtmpChunkReader::parse_one(bool& consumed) {
  const auto* p = reinterpret_cast<const uint8_t*>(buf_.data()) + pos_;
  const size_t avail = buf_.size() - pos_;
  if (avail < 1) return nullptr;
  const int fmt = p[0] >> 6;
  uint32_t csid = p[0] & 0x3F;
  size_t h = 1;
  if (csid == 0) {
    if (avail < 2) return nullptr;
    csid = 64 + p[1];
    h = 2;
  } else if (csid == 1) {
    if (avail < 3) return nullptr;
    csid = 64 + p[1] + 256u * p[2];
    h = 3;
  }
  static constexpr size_t kHeader[4] = {11, 7, 3, 0};
  if (avail < h + kHeader[fmt]) return nullptr;
  auto it = streams_.find(csid);
  if (it == streams_.end()) {
    if (fmt != 0) return "rtmp-bad-chunk";  // a continuation of nothing
    if (streams_.size() >= limits_.max_chunk_streams) return "rtmp-too-many-chunk-streams";
  }
  // The header is applied to a copy, committed only once the whole chunk is here.
  Header next = it == streams_.end() ? Header{} : it->second.h;
  const size_t have = it == streams_.end() ? 0 : it->second.payload.size();
  const uint8_t* m = p + h;
  uint32_t ts_field = 0;
  if (fmt <= 2) ts_field = be(m, 3);
  if (fmt <= 1) {
    next.length = be(m + 3, 3);
    next.type = m[6];
  }
  if (fmt == 0) next.stream_id = m[7] | (m[8] << 8) | (m[9] << 16) | (uint32_t(m[10]) << 24);
  if (fmt <= 2) next.extended = ts_field == kExtended;
  h += kHeader[fmt];
  uint32_t ext = 0;
  if (next.extended) {
    if (avail < h + 4) return nullptr;
    ext = be(p + h, 4);
    h += 4;
  }
  const bool new_message = have == 0;
  if (new_message) {
    if (fmt == 0) {
      next.timestamp = next.extended ? ext : ts_field;
      next.delta = 0;
      next.started = true;
    } else {
      if (!next.started) return "rtmp-bad-chunk";
      if (fmt <= 2) next.delta = next.extended ? ext : ts_field;
      next.timestamp += next.delta;
    }
    if (next.length > limits_.max_message_size) return "rtmp-message-too-large";
  } else if (fmt != 3) {
    return "rtmp-bad-chunk";  // a new header in the middle of a message
  }
  const size_t want = std::min<size_t>(chunk_size_, next.length - have);
  if (avail < h + want) return nullptr;
  auto& cs = streams_[csid];
  cs.h = next;
  cs.payload.append(reinterpret_cast<const char*>(p + h), want);
  pos_ += h + want;
  consumed = true;
  if (cs.payload.size() < cs.h.length) return nullptr;
  return deliver(cs);
}

const char* RtmpChunkReader::deliver(ChunkStream& cs) {
  RtmpMessage msg{cs.h.type, cs.h.stream_id, cs.h.timestamp, std::move(cs.payload)};
  cs.payload.clear();
  if (msg.type == kSetChunkSize) {
    if (msg.payload.size() < 4) return "rtmp-bad-control";
    size_t size = be(reinterpret_cast<const uint8_t*>(msg.payload.data()), 4) & 0x7FFFFFFF;
    if (size < 1 || size > limits_.max_chunk_size) return "rtmp-bad-chunk-size";
    chunk_size_ = size;
    return nullptr;
  }
  if (msg.type == kAbort) {
    if (msg.payload.size() < 4) return "rtmp-bad-control";
    auto a = streams_.find(be(reinterpret_cast<const uint8_t*>(msg.payload.data()), 4));
    if (a != streams_.end()) a->second.payload.clear();
    return nullptr;
  }
  on_message_(std::move(msg));
  return nullptr;
}

void rtmp_write_message(std::string& out, uint8_t csid, uint8_t type, uint32_t stream_id,
                        uint32_t timestamp, std::string_view payload, size_t chunk_size) {
  const bool ext = timestamp >= kExtended;
  out.push_back(char(csid & 0x3F));
  put_be(out, ext ? kExtended : timestamp, 3);
  put_be(out, uint32_t(payload.size()), 3);
  out.push_back(char(type));
  for (int i = 0; i < 4; ++i) out.push_back(char((stream_id >> (8 * i)) & 0xFF));
  if (ext) put_be(out, timestamp, 4);
  for (size_t off = 0; off < payload.size() || off == 0; off += chunk_size) {
    if (off > 0) {
      out.push_back(char(0xC0 | (csid & 0x3F)));
      if (ext) put_be(out, timestamp, 4);
    }
    out.append(payload.substr(off, chunk_size));
    if (payload.empty()) break;
  }
}

}  // namespace cdn::origin::ingest
