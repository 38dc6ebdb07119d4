#pragma once
// One RTMP publisher's protocol, without sockets: the simple handshake (C0/C1 -> S0/S1/S2, C2),
// the chunk stream, the commands a publisher sends (connect, releaseStream, FCPublish,
// createStream, publish, FCUnpublish/deleteStream), user control pings, acknowledgements, and
// its FLV audio/video messages muxed to MPEG-TS. The owner feeds the bytes it reads and sends
// what `send` produces; feed() returning a reason means: flush what was sent, then close.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "origin-shield/origin/ingest/amf0.h"
#include "origin-shield/origin/ingest/flv_media.h"
#include "origin-shield/origin/ingest/rtmp_chunks.h"
#include "origin-shield/origin/ingest/ts_muxer.h"

namespace cdn::origin::ingest {

class RtmpSession {
 public:
  enum class Phase { Handshake, AwaitC2, Commands, Publishing, Closed };
  struct Hooks {
    // The publish command: `app` from connect, `name` from publish. "" accepts; anything else is
    // the refusal reason (the publisher gets NetStream.Publish.BadName and the connection ends).
    std::function<std::string(const std::string& app, const std::string& name)> publish;
    std::function<void(std::string_view ts)> media;  // MPEG-TS, whole packets
    std::function<void(std::string&& bytes)> send;
  };
  // The reason feed() returns when the publisher ended its stream (not an error).
  static constexpr const char* kUnpublished = "unpublished";

  RtmpSession(RtmpChunkLimits limits, Hooks hooks);

  const char* feed(std::string_view data);
  // The server ends an accepted publish (key rotated, channel removed, draining): an onStatus
  // error (NetStream.Publish.BadName, `reason` as its description) the owner flushes before it
  // closes the connection.
  void end_publish(const std::string& reason);
  Phase phase() const { return phase_; }
  uint64_t media_messages() const { return media_messages_; }

 private:
  void on_message(RtmpMessage&& m);
  void on_command(const RtmpMessage& m, std::string_view amf);
  void on_media(const RtmpMessage& m);
  void send_message(uint8_t csid, uint8_t type, uint32_t stream_id, std::string_view payload);
  void send_command(uint32_t stream_id, const std::vector<Amf0Value>& values);
  void send_status(uint32_t stream_id, const char* level, const char* code, std::string desc);

  Hooks hooks_;
  RtmpChunkReader reader_;
  Phase phase_ = Phase::Handshake;
  std::string handshake_;        // C0/C1 or C2 bytes so far
  const char* error_ = nullptr;  // set inside reader callbacks, returned by feed()
  std::string app_;
  size_t out_chunk_size_ = 128;
  uint64_t received_ = 0, acked_ = 0;
  uint32_t peer_window_ = 0;  // the publisher's Window Acknowledgement Size, 0 = none
  uint64_t media_messages_ = 0;
  uint32_t publish_stream_id_ = 0;
  FlvMedia flv_;
  TsMuxer mux_;
  std::string ts_;  // reused
};

}  // namespace cdn::origin::ingest
