// An RTMP publisher's whole conversation with RtmpSession, byte for byte as a client sends it.
#include "origin-shield/origin/ingest/rtmp_session.h"

#include <gtest/gtest.h>

#include "tests/unit/ingest/flv_tags.h"

using namespace cdn::origin::ingest;
using namespace ingest_test;

namespace {

std::string command(std::vector<Amf0Value> values) {
  std::string payload;
  for (auto& v : values) amf0_encode(v, payload);
  return payload;
}

struct Client {
  std::string accepted_key = "k";
  std::string app_seen, name_seen;
  std::string sent;  // everything the session sent
  std::string ts;    // everything it muxed
  RtmpSession session{RtmpChunkLimits{1 << 16, 1 << 20, 64},
                      RtmpSession::Hooks{[this](const std::string& app, const std::string& name) {
                                           app_seen = app;
                                           name_seen = name;
                                           return name.find("key=" + accepted_key) !=
                                                          std::string::npos
                                                      ? std::string()
                                                      : std::string("bad-stream-key");
                                         },
                                         [this](std::string_view t) { ts.append(t); },
                                         [this](std::string&& b) { sent += b; }}};
  size_t chunk = 128;

  const char* handshake() {
    std::string c0c1(1537, '\x5A');
    c0c1[0] = 3;
    if (const char* e = session.feed(c0c1)) return e;
    EXPECT_EQ(sent.size(), 1u + 2 * 1536);
    EXPECT_EQ(sent.substr(1 + 1536), c0c1.substr(1));  // S2 echoes C1
    sent.clear();
    return session.feed(std::string(1536, '\x11'));  // C2
  }
  const char* send(uint8_t csid, uint8_t type, uint32_t stream, uint32_t ts_ms,
                   const std::string& p) {
    std::string wire;
    rtmp_write_message(wire, csid, type, stream, ts_ms, p, chunk);
    return session.feed(wire);
  }
  const char* invoke(std::vector<Amf0Value> values, uint32_t stream = 0) {
    return send(3, 20, stream, 0, command(std::move(values)));
  }
  const char* publish_as(const std::string& name) {
    if (const char* e = handshake()) return e;
    if (const char* e = invoke({Amf0Value::str("connect"), Amf0Value::num(1),
                                Amf0Value::obj({{"app", Amf0Value::str("live")}})}))
      return e;
    if (const char* e = invoke({Amf0Value::str("releaseStream"), Amf0Value::num(2),
                                Amf0Value::null(), Amf0Value::str(name)}))
      return e;
    if (const char* e =
            invoke({Amf0Value::str("createStream"), Amf0Value::num(3), Amf0Value::null()}))
      return e;
    return invoke({Amf0Value::str("publish"), Amf0Value::num(4), Amf0Value::null(),
                   Amf0Value::str(name), Amf0Value::str("live")},
                  1);
  }
  bool said(const std::string& s) const { return sent.find(s) != std::string::npos; }
};

}  // namespace

TEST(RtmpSession, PublisherConnectsPublishesAndItsMediaBecomesTs) {
  Client c;
  ASSERT_EQ(c.publish_as("news/720p?key=k"), nullptr);
  EXPECT_EQ(c.app_seen, "live");
  EXPECT_EQ(c.name_seen, "news/720p?key=k");
  EXPECT_TRUE(c.said("NetConnection.Connect.Success"));
  EXPECT_TRUE(c.said("NetStream.Publish.Start"));
  EXPECT_EQ(c.session.phase(), RtmpSession::Phase::Publishing);
  // The publisher raises its chunk size, as ffmpeg and OBS do, then sends metadata and media.
  ASSERT_EQ(c.send(2, 1, 0, 0, be(4096, 4)), nullptr);
  c.chunk = 4096;
  ASSERT_EQ(
      c.send(4, 18, 1, 0, command({Amf0Value::str("@setDataFrame"), Amf0Value::str("onMetaData")})),
      nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 0, avc_sequence_header()), nullptr);
  ASSERT_EQ(c.send(4, 8, 1, 0, aac_sequence_header()), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 0, avc_frame(true, 40)), nullptr);
  ASSERT_EQ(c.send(4, 8, 1, 21, aac_frame(std::string(200, 'a'))), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 40, avc_frame(false, 0)), nullptr);
  EXPECT_EQ(c.session.media_messages(), 5u);
  Demuxed d = demux(c.ts);
  EXPECT_EQ(d.stats.crc_errors + d.stats.cc_errors, 0u);
  EXPECT_EQ(d.video_keyframes, (std::vector<bool>{true, false}));
  EXPECT_EQ(d.media.width, 64);
  EXPECT_EQ(d.media.sample_rate, 44100);
  EXPECT_STREQ(c.invoke({Amf0Value::str("deleteStream"), Amf0Value::num(5), Amf0Value::null(),
                         Amf0Value::num(1)}),
               RtmpSession::kUnpublished);
}

TEST(RtmpSession, HevcPublisherOverEnhancedRtmp) {
  Client c;
  ASSERT_EQ(c.publish_as("news/720p?key=k"), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 0, hevc_sequence_header()), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 0, hevc_frame(true, true, 0)), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 40, hevc_frame(false, false)), nullptr);
  Demuxed d = demux(c.ts);
  EXPECT_EQ(d.media.video_codec, cdn::live::Codec::kHevc);
  EXPECT_EQ(d.video_keyframes, (std::vector<bool>{true, false}));
}

TEST(RtmpSession, WrongKeyIsRefusedWithBadName) {
  Client c;
  EXPECT_STREQ(c.publish_as("news/720p?key=nope"), "rtmp-publish-refused");
  EXPECT_TRUE(c.said("NetStream.Publish.BadName"));
  EXPECT_TRUE(c.said("bad-stream-key"));
  EXPECT_EQ(c.session.phase(), RtmpSession::Phase::Closed);
  EXPECT_STREQ(c.session.feed("more"), "rtmp-publish-refused");
}

TEST(RtmpSession, MediaBeforePublishIsNotMuxed) {
  Client c;
  ASSERT_EQ(c.handshake(), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 0, avc_sequence_header()), nullptr);
  ASSERT_EQ(c.send(6, 9, 1, 0, avc_frame(true, 0)), nullptr);
  EXPECT_TRUE(c.ts.empty());
}

TEST(RtmpSession, UnsupportedCodecEndsTheSession) {
  Client c;
  ASSERT_EQ(c.publish_as("news/720p?key=k"), nullptr);
  EXPECT_STREQ(c.send(6, 9, 1, 0, std::string("\x22\x00\x00\x00", 4)), "unsupported-codec");
}

TEST(RtmpSession, PingAndAcknowledgement) {
  Client c;
  ASSERT_EQ(c.handshake(), nullptr);
  ASSERT_EQ(c.send(2, 5, 0, 0, be(100, 4)), nullptr);  // the client's window: 100 bytes
  c.sent.clear();
  ASSERT_EQ(c.send(2, 4, 0, 0, std::string("\x00\x06\x00\x00\x01\x02", 6)), nullptr);
  EXPECT_TRUE(c.said(std::string("\x00\x07\x00\x00\x01\x02", 6)));  // ping response, same time
  c.sent.clear();
  ASSERT_EQ(c.send(4, 18, 1, 0, std::string(150, '\x05')), nullptr);
  // An Acknowledgement (type 3) on chunk stream 2.
  ASSERT_GE(c.sent.size(), 16u);
  EXPECT_EQ(c.sent[0], '\x02');
  EXPECT_EQ(c.sent[7], '\x03');
}

TEST(RtmpSession, BadHandshakeAndBadCommandsEndTheSession) {
  {
    Client c;
    std::string c0c1(1537, '\0');
    c0c1[0] = 6;  // RTMPE
    EXPECT_STREQ(c.session.feed(c0c1), "rtmp-bad-handshake");
  }
  {
    Client c;
    ASSERT_EQ(c.handshake(), nullptr);
    EXPECT_STREQ(c.send(3, 20, 0, 0,
                        std::string("\x02\x00\x09"
                                    "connect",
                                    10)),
                 "rtmp-bad-command");
  }
  {
    Client c;  // one byte at a time through the handshake and a command
    std::string all(1537, '\3');
    all += std::string(1536, '\0');
    rtmp_write_message(all, 3, 20, 0, 0,
                       command({Amf0Value::str("connect"), Amf0Value::num(1), Amf0Value::obj({})}),
                       128);
    for (char ch : all) ASSERT_EQ(c.session.feed(std::string_view(&ch, 1)), nullptr);
    EXPECT_TRUE(c.said("NetConnection.Connect.Success"));
  }
}
