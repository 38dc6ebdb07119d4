#include "origin-shield/origin/ingest/rtmp_session.h"

#include <random>

namespace cdn::origin::ingest {

namespace {

constexpr size_t kHandshake = 1536;
constexpr uint32_t kWindow = 2'500'000;
constexpr size_t kOurChunkSize = 4096;
enum : uint8_t {
  kSetChunkSize = 1,
  kAck = 3,
  kUserControl = 4,
  kWindowAck = 5,
  kPeerBandwidth = 6,
  kAudio = 8,
  kVideo = 9,
  kAmf3Command = 17,
  kAmf0Command = 20,
};
constexpr uint8_t kControlCsid = 2, kCommandCsid = 3, kStatusCsid = 5;

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[size_t(i)] = char((v >> (24 - 8 * i)) & 0xFF);
  return s;
}

}  // namespace

RtmpSession::RtmpSession(RtmpChunkLimits limits, Hooks hooks)
    : hooks_(std::move(hooks)),
      reader_(limits, [this](RtmpMessage&& m) { on_message(std::move(m)); }) {}

const char* RtmpSession::feed(std::string_view data) {
  if (phase_ == Phase::Closed) return error_ ? error_ : "rtmp-closed";
  received_ += data.size();
  while (!data.empty() && (phase_ == Phase::Handshake || phase_ == Phase::AwaitC2)) {
    const size_t want = phase_ == Phase::Handshake ? 1 + kHandshake : kHandshake;
    const size_t take = std::min(want - handshake_.size(), data.size());
    handshake_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (handshake_.size() < want) return nullptr;
    if (phase_ == Phase::AwaitC2) {
      phase_ = Phase::Commands;       // C2's content is not checked (simple handshake)
    } else if (handshake_[0] != 3) {  // 6 would be RTMPE (encrypted): not offered
      phase_ = Phase::Closed;
      return error_ = "rtmp-bad-handshake";
    } else {
      std::string s(1, '\3');
      std::string s1(kHandshake, '\0');  // time 0, zero, then random bytes
      std::mt19937 rng(std::random_device{}());
      for (size_t i = 8; i < kHandshake; ++i) s1[i] = char(rng());
      s += s1;
      s.append(handshake_, 1, kHandshake);  // S2 echoes C1
      hooks_.send(std::move(s));
      phase_ = Phase::AwaitC2;
    }
    handshake_.clear();
  }
  if (data.empty()) return nullptr;
  if (const char* err = reader_.feed(data)) error_ = err;
  if (error_) {
    phase_ = Phase::Closed;
    return error_;
  }
  if (peer_window_ && received_ - acked_ >= peer_window_) {
    acked_ = received_;
    send_message(kControlCsid, kAck, 0, be32(uint32_t(received_)));
  }
  return nullptr;
}

void RtmpSession::send_message(uint8_t csid, uint8_t type, uint32_t stream_id,
                               std::string_view payload) {
  std::string out;
  rtmp_write_message(out, csid, type, stream_id, 0, payload, out_chunk_size_);
  hooks_.send(std::move(out));
}

void RtmpSession::send_command(uint32_t stream_id, const std::vector<Amf0Value>& values) {
  std::string payload;
  for (auto& v : values) amf0_encode(v, payload);
  send_message(stream_id ? kStatusCsid : kCommandCsid, kAmf0Command, stream_id, payload);
}

void RtmpSession::end_publish(const std::string& reason) {
  if (phase_ != Phase::Publishing) return;
  send_status(publish_stream_id_, "error", "NetStream.Publish.BadName", reason);
  phase_ = Phase::Closed;
}

void RtmpSession::send_status(uint32_t stream_id, const char* level, const char* code,
                              std::string desc) {
  send_command(stream_id, {Amf0Value::str("onStatus"), Amf0Value::num(0), Amf0Value::null(),
                           Amf0Value::obj({{"level", Amf0Value::str(level)},
                                           {"code", Amf0Value::str(code)},
                                           {"description", Amf0Value::str(std::move(desc))}})});
}

void RtmpSession::on_message(RtmpMessage&& m) {
  if (error_) return;
  switch (m.type) {
    case kAmf0Command:
      return on_command(m, m.payload);
    case kAmf3Command:  // an AMF0 command behind a format byte 0
      if (!m.payload.empty() && m.payload[0] == 0)
        on_command(m, std::string_view(m.payload).substr(1));
      return;
    case kAudio:
    case kVideo:
      return on_media(m);
    case kWindowAck:
      if (m.payload.size() >= 4)
        peer_window_ = (uint32_t(uint8_t(m.payload[0])) << 24) | (uint8_t(m.payload[1]) << 16) |
                       (uint8_t(m.payload[2]) << 8) | uint8_t(m.payload[3]);
      return;
    case kUserControl:
      // Ping request (event 6) -> ping response (event 7) with the same timestamp.
      if (m.payload.size() >= 6 && m.payload[0] == 0 && m.payload[1] == 6)
        send_message(kControlCsid, kUserControl, 0,
                     std::string("\0\7", 2) + m.payload.substr(2, 4));
      return;
    default:
      return;  // acknowledgements, peer bandwidth, data messages (@setDataFrame), ...
  }
}

void RtmpSession::on_command(const RtmpMessage& m, std::string_view amf) {
  auto values = amf0_decode(amf);
  if (!values || values->size() < 2 || (*values)[0].type != Amf0Value::Type::String) {
    error_ = "rtmp-bad-command";
    return;
  }
  const std::string& name = (*values)[0].string;
  const double txn = (*values)[1].number;
  if (name == "connect") {
    const Amf0Value* app = values->size() > 2 ? (*values)[2].get("app") : nullptr;
    app_ = app && app->type == Amf0Value::Type::String ? app->string : "";
    send_message(kControlCsid, kWindowAck, 0, be32(kWindow));
    send_message(kControlCsid, kPeerBandwidth, 0, be32(kWindow) + std::string(1, '\2'));
    send_message(kControlCsid, kSetChunkSize, 0, be32(kOurChunkSize));
    out_chunk_size_ = kOurChunkSize;
    send_command(0, {Amf0Value::str("_result"), Amf0Value::num(txn),
                     Amf0Value::obj({{"fmsVer", Amf0Value::str("FMS/3,0,1,123")},
                                     {"capabilities", Amf0Value::num(31)}}),
                     Amf0Value::obj({{"level", Amf0Value::str("status")},
                                     {"code", Amf0Value::str("NetConnection.Connect.Success")},
                                     {"description", Amf0Value::str("Connection succeeded.")},
                                     {"objectEncoding", Amf0Value::num(0)}})});
  } else if (name == "createStream") {
    send_command(
        0, {Amf0Value::str("_result"), Amf0Value::num(txn), Amf0Value::null(), Amf0Value::num(1)});
  } else if (name == "releaseStream" || name == "FCPublish") {
    send_command(0, {Amf0Value::str("_result"), Amf0Value::num(txn), Amf0Value::null()});
  } else if (name == "publish") {
    if (phase_ == Phase::Publishing) return;  // a second publish on one connection: ignored
    std::string stream = values->size() > 3 && (*values)[3].type == Amf0Value::Type::String
                             ? (*values)[3].string
                             : "";
    std::string refusal = hooks_.publish(app_, stream);
    if (!refusal.empty()) {
      send_status(m.stream_id, "error", "NetStream.Publish.BadName", refusal);
      error_ = "rtmp-publish-refused";
      return;
    }
    send_status(m.stream_id, "status", "NetStream.Publish.Start", "Publishing " + stream + ".");
    phase_ = Phase::Publishing;
    publish_stream_id_ = m.stream_id;
  } else if (name == "FCUnpublish" || name == "deleteStream" || name == "closeStream") {
    if (phase_ == Phase::Publishing) error_ = kUnpublished;
  } else if (name == "play" || name == "play2") {
    send_status(m.stream_id, "error", "NetStream.Play.Failed", "this server only takes publishers");
    error_ = "rtmp-play-refused";
  }
}

void RtmpSession::on_media(const RtmpMessage& m) {
  if (phase_ != Phase::Publishing) return;  // media before publish: nobody to feed
  ++media_messages_;
  AccessUnit au;
  const char* err = m.type == kVideo ? flv_.video(m.timestamp, m.payload, au)
                                     : flv_.audio(m.timestamp, m.payload, au);
  if (err) {
    error_ = err;
    return;
  }
  if (au.codec == EsCodec::None) return;
  ts_.clear();
  mux_.write(au, flv_.video_codec(), flv_.has_audio(), ts_);
  hooks_.media(ts_);
}

}  // namespace cdn::origin::ingest
