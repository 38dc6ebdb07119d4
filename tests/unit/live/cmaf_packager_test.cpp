// The CMAF packager on real encoder output (ffmpeg clips): parts, segments, decode-time
// continuity, and ffprobe reading what it wrote.
#include "origin-shield/origin/live/cmaf_packager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "origin-shield/origin/live/fmp4_parse.h"
#include "tests/unit/live/media_fixture.h"

namespace cdn::live {
namespace {

using namespace testing;

struct Packaged {
  std::map<uint64_t, std::string> inits;
  std::vector<CmafPart> parts;
  std::vector<CmafSegment> segments;
};

Packaged package(const std::string& ts, CmafConfig cfg, size_t chunk = 1316,
                 bool input_complete = false) {
  Packaged out;
  CmafPackager::Output o;
  o.on_init = [&](const CmafInit& i) { out.inits[i.id] = *i.muxed; };
  o.on_part = [&](const CmafPart& p) { out.parts.push_back(p); };
  o.on_segment = [&](CmafSegment&& s) { out.segments.push_back(std::move(s)); };
  CmafPackager p(cfg, o);
  for (size_t i = 0; i < ts.size(); i += chunk) p.feed(std::string_view(ts).substr(i, chunk));
  p.flush(input_complete);
  return out;
}

std::string clip(Clip c) {
  const std::string& path = clip_path(c);
  return path.empty() ? "" : read_file(path);
}

#define REQUIRE_CLIP(var, which) \
  std::string var = clip(which); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg could not make the clip"

// Per track id: (tfdt, sum of durations) of every traf, in order, across all segments.
struct TrackTimes {
  std::map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>> runs;
  std::vector<bool> segment_starts_sync;
};

TrackTimes walk(const std::vector<CmafSegment>& segs) {
  TrackTimes t;
  for (const CmafSegment& s : segs) {
    auto boxes = fmp4::parse_boxes(*s.data);
    EXPECT_TRUE(boxes);
    if (!boxes) continue;
    EXPECT_EQ((*boxes)[0].type, "styp");
    bool first = true;
    for (const fmp4::Box& b : *boxes) {
      if (b.type != "moof") continue;
      for (const fmp4::Box* traf : b.all("traf")) {
        auto tfhd = fmp4::parse_tfhd(traf->find("tfhd")->body);
        auto tfdt = fmp4::parse_tfdt(traf->find("tfdt")->body);
        auto trun = fmp4::parse_trun(traf->find("trun")->body);
        EXPECT_TRUE(tfhd && tfdt && trun);
        if (!tfhd || !tfdt || !trun) continue;
        uint64_t sum = 0;
        for (auto& smp : trun->samples) sum += smp.duration;
        t.runs[tfhd->track_id].push_back({*tfdt, sum});
        if (first && tfhd->track_id == 1) {
          t.segment_starts_sync.push_back(fmp4::is_sync_sample(trun->samples[0].flags));
          first = false;
        }
      }
    }
  }
  return t;
}

void expect_continuous(const TrackTimes& t) {
  for (auto& [track, runs] : t.runs)
    for (size_t i = 1; i < runs.size(); ++i)
      EXPECT_EQ(runs[i].first, runs[i - 1].first + runs[i - 1].second)
          << "track " << track << " fragment " << i;
}

TEST(CmafPackager, TwoSecondSegmentsOfPartsWithinThePartTarget) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  CmafConfig cfg;
  cfg.target_duration_s = 2;
  cfg.part_target_s = 0.333;
  cfg.first_sequence = 40;
  auto out = package(ts, cfg);
  ASSERT_EQ(out.inits.size(), 1u);
  EXPECT_EQ(out.inits.begin()->first, 40u);
  ASSERT_EQ(out.segments.size(), 5u);
  for (size_t i = 0; i < out.segments.size(); ++i) {
    EXPECT_EQ(out.segments[i].sequence, 40 + i);
    // The last one lacks the final frame (not packaged at the end of input).
    EXPECT_NEAR(out.segments[i].duration_s, i + 1 < out.segments.size() ? 2.0 : 1.96, 1e-6);
  }
  uint64_t seq = 40;
  uint32_t index = 0;
  for (const CmafPart& p : out.parts) {
    if (p.sequence != seq) {
      EXPECT_EQ(p.sequence, seq + 1);
      seq = p.sequence;
      index = 0;
    }
    EXPECT_EQ(p.index, index++);
    EXPECT_LE(p.duration_s, 0.333 + 1e-9);
    EXPECT_GT(p.duration_s, 0);
    EXPECT_EQ(p.independent, p.index == 0) << p.sequence << "." << p.index;
  }
  EXPECT_EQ(out.parts.size(),
            5u * 7);  // 2 s of 25 fps in parts of 8 frames: 6 × 0.32 + 0.08 (0.04)
  TrackTimes t = walk(out.segments);
  ASSERT_EQ(t.runs.size(), 2u);  // video and audio
  expect_continuous(t);
  for (bool sync : t.segment_starts_sync) EXPECT_TRUE(sync);
}

TEST(CmafPackager, FfprobeDecodesEveryFrameOfH264AndHevc) {
  for (Clip c : {Clip::kH264Aac10s, Clip::kHevcAac4s}) {
    std::string ts = clip(c);
    if (ts.empty()) GTEST_SKIP() << "ffmpeg could not make the clip";
    auto out = package(ts, {});
    ASSERT_EQ(out.inits.size(), 1u);
    std::string file = out.inits.begin()->second;
    for (auto& s : out.segments) file += *s.data;
    const std::string path = temp_dir() + "/cmaf.mp4";
    write_file(path, file);
    bool ok = false;
    std::string frames =
        run("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
            "stream=codec_name,nb_read_frames -of csv=p=0 " +
                path,
            &ok);
    ASSERT_TRUE(ok) << frames;
    // The last access unit is not packaged at the end of input (it may be truncated).
    const int expected = c == Clip::kH264Aac10s ? 249 : 99;
    EXPECT_EQ(frames, std::string(c == Clip::kH264Aac10s ? "h264," : "hevc,") +
                          std::to_string(expected) + "\n");
    std::string audio =
        run("ffprobe -v error -select_streams a:0 -show_entries "
            "stream=codec_name,sample_rate -of csv=p=0 " +
                path,
            &ok);
    EXPECT_EQ(audio, "aac,48000\n");
  }
}

// A file read to its end (packaged VOD): its last access unit is whole and packaged too, unless
// the file stops inside a TS packet (then it may be cut short and is dropped as for live input).
TEST(CmafPackager, AFileReadToItsEndKeepsItsLastFrame) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  const auto frames = [](const Packaged& out) {
    size_t n = 0;
    for (auto& s : out.segments) {
      auto boxes = fmp4::parse_boxes(*s.data);
      if (!boxes) continue;
      for (const fmp4::Box& b : *boxes) {
        if (b.type != "moof") continue;
        for (const fmp4::Box* traf : b.all("traf"))
          if (fmp4::parse_tfhd(traf->find("tfhd")->body)->track_id == 1)
            n += fmp4::parse_trun(traf->find("trun")->body)->samples.size();
      }
    }
    return n;
  };
  const Packaged live = package(ts, {}), file = package(ts, {}, 1316, true);
  EXPECT_EQ(frames(live), 249u);
  EXPECT_EQ(frames(file), 250u);
  expect_continuous(walk(file.segments));
  int64_t total = 0;
  for (auto& s : file.segments) total += s.duration_ticks;
  EXPECT_EQ(total, 10 * 90000);  // every frame's 40 ms: the input's duration
  const Packaged cut = package(ts.substr(0, ts.size() - 100), {}, 1316, true);
  EXPECT_LT(frames(cut), 250u);
}

// One input whose timestamps go back (a file made of two, an encoder restarted without a new
// connection): the second timeline's audio is packaged with its video, segment by segment, not
// held back behind the first timeline's last audio frames until the end of the input.
TEST(CmafPackager, AudioFollowsItsVideoAcrossATimestampJumpBack) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  const Packaged out = package(ts + ts, {}, 1316, true);
  ASSERT_EQ(out.segments.size(), 10u);
  EXPECT_TRUE(out.segments[5].discontinuity);
  for (const CmafSegment& s : out.segments) {
    const TrackTimes t = walk({s});
    ASSERT_EQ(t.runs.size(), 2u) << s.sequence;  // video and audio in every segment
    int64_t audio = 0;
    for (auto& [tfdt, d] : t.runs.at(2)) audio += int64_t(d);
    // About the segment's own 2 s (audio frames go where their decode time falls, and this clip's
    // audio runs some frames apart from its video), never the rest of the input.
    EXPECT_NEAR(double(audio), double(s.duration_ticks), 0.75 * kTimestampHz) << s.sequence;
    EXPECT_NEAR(double(t.runs.at(2).front().first), double(s.first_dts), 0.75 * kTimestampHz)
        << s.sequence;
  }
}

TEST(CmafPackager, AudioOnlyStreamsAreCutOnAudioFrames) {
  REQUIRE_CLIP(ts, Clip::kAacOnly6s);
  CmafConfig cfg;
  cfg.target_duration_s = 2;
  cfg.part_target_s = 0.5;
  auto out = package(ts, cfg);
  ASSERT_GE(out.segments.size(), 3u);
  TrackTimes t = walk(out.segments);
  ASSERT_EQ(t.runs.size(), 1u);
  expect_continuous(t);
  for (auto& p : out.parts) EXPECT_LE(p.duration_s, 0.5 + 1e-9);
}

TEST(CmafPackager, PerTrackFilesCarryOneTrackEachAndTheSameSamples) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  CmafConfig cfg;
  cfg.per_track = true;
  std::vector<CmafInit> inits;
  std::vector<CmafSegment> segs;
  CmafPackager::Output o;
  o.on_init = [&](const CmafInit& i) { inits.push_back(i); };
  o.on_segment = [&](CmafSegment&& s) { segs.push_back(std::move(s)); };
  CmafPackager p(cfg, o);
  p.feed(ts);
  p.flush();
  ASSERT_EQ(inits.size(), 1u);
  ASSERT_TRUE(inits[0].video && inits[0].audio);
  for (const Bytes* init : {&inits[0].video, &inits[0].audio}) {
    auto boxes = fmp4::parse_boxes(**init);
    ASSERT_TRUE(boxes);
    EXPECT_EQ((*boxes)[1].all("trak").size(), 1u);
  }
  ASSERT_FALSE(segs.empty());
  int64_t audio_end = -1;
  for (const CmafSegment& s : segs) {
    ASSERT_TRUE(s.video && s.audio);
    const auto only = [](const Bytes& b) {
      CmafSegment c;
      c.data = b;
      return std::vector<CmafSegment>{c};
    };
    TrackTimes v = walk(only(s.video));
    TrackTimes a = walk(only(s.audio));
    TrackTimes m = walk(only(s.data));
    // The same samples as the muxed file's, track by track.
    EXPECT_EQ(v.runs[1], m.runs[1]);
    EXPECT_EQ(a.runs[2], m.runs[2]);
    ASSERT_EQ(v.runs.size(), 1u);
    ASSERT_EQ(a.runs.count(2), 1u);  // audio keeps its track id
    EXPECT_EQ(int64_t(v.runs[1].front().first), s.first_dts);
    EXPECT_EQ(int64_t(a.runs[2].front().first), s.audio_first_dts);
    uint64_t sum = 0;
    for (auto& r : a.runs[2]) sum += r.second;
    EXPECT_EQ(int64_t(sum), s.audio_duration_ticks);
    if (audio_end >= 0) {
      EXPECT_EQ(s.audio_first_dts, audio_end);
    }
    audio_end = s.audio_first_dts + s.audio_duration_ticks;
  }
}

TEST(CmafPackager, ChunkingDoesNotChangeTheOutput) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  auto a = package(ts, {}, 188);
  auto b = package(ts, {}, 65536);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i)
    EXPECT_EQ(*a.segments[i].data, *b.segments[i].data);
}

// CMAF chunks within parts: each out before its part, each within the chunk target, and a part's
// chunks (and a track's chunks) are that part's bytes, in order; the media itself is unchanged.
TEST(CmafPackager, PartsAreMadeOfChunksSentBeforeThePart) {
  REQUIRE_CLIP(ts, Clip::kH264Aac10s);
  CmafConfig cfg;
  cfg.part_target_s = 0.333;
  cfg.chunk_target_s = 0.333 / 4;
  cfg.per_track = true;
  std::string part_so_far, video_so_far, audio_so_far;
  std::vector<CmafPart> parts;
  std::vector<CmafSegment> segs;
  size_t chunks = 0;
  CmafPackager::Output o;
  o.on_chunk = [&](const CmafChunk& c) {
    ++chunks;
    ASSERT_TRUE(c.data);
    EXPECT_EQ(c.part_index,
              parts.empty() || parts.back().sequence != c.sequence ? 0u : parts.back().index + 1);
    auto boxes = fmp4::parse_boxes(*c.data);
    ASSERT_TRUE(boxes);
    ASSERT_EQ(boxes->size(), 2u);  // one moof, one mdat
    // 25 fps: two frames (80 ms) fit in 83 ms.
    auto trun = fmp4::parse_trun((*boxes)[0].all("traf")[0]->find("trun")->body);
    ASSERT_TRUE(trun);
    EXPECT_LE(trun->samples.size(), 2u);
    part_so_far += *c.data;
    if (c.video) video_so_far += *c.video;
    if (c.audio) audio_so_far += *c.audio;
  };
  o.on_part = [&](const CmafPart& p) {
    EXPECT_EQ(*p.data, part_so_far);
    EXPECT_EQ(p.video ? *p.video : "", video_so_far);
    EXPECT_EQ(p.audio ? *p.audio : "", audio_so_far);
    part_so_far.clear(), video_so_far.clear(), audio_so_far.clear();
    parts.push_back(p);
  };
  o.on_segment = [&](CmafSegment&& s) { segs.push_back(std::move(s)); };
  CmafPackager p(cfg, o);
  p.feed(ts);
  p.flush();
  EXPECT_TRUE(part_so_far.empty());
  EXPECT_GE(chunks, 3 * parts.size());
  TrackTimes t = walk(segs);
  ASSERT_EQ(t.runs.size(), 2u);
  expect_continuous(t);
  for (bool sync : t.segment_starts_sync) EXPECT_TRUE(sync);
  // The same samples as without chunks.
  cfg.chunk_target_s = 0;
  auto whole = package(ts, cfg);
  ASSERT_EQ(whole.segments.size(), segs.size());
  TrackTimes w = walk(whole.segments);
  for (auto& [track, runs] : w.runs) {
    uint64_t a = 0, b = 0;
    for (auto& r : runs) a += r.second;
    for (auto& r : t.runs[track]) b += r.second;
    EXPECT_EQ(a, b) << track;
    EXPECT_EQ(runs.front().first, t.runs[track].front().first);
  }
}

TEST(CmafPackager, FlushThenMoreInputStartsADiscontinuity) {
  REQUIRE_CLIP(ts, Clip::kH264Aac4sB);
  Packaged out;
  CmafPackager::Output o;
  o.on_segment = [&](CmafSegment&& s) { out.segments.push_back(std::move(s)); };
  CmafPackager p({}, o);
  p.feed(ts);
  p.flush();
  const size_t first = out.segments.size();
  ASSERT_GT(first, 0u);
  p.feed(ts);
  p.flush();
  ASSERT_GT(out.segments.size(), first);
  EXPECT_FALSE(out.segments[0].discontinuity);
  EXPECT_TRUE(out.segments[first].discontinuity);
}

}  // namespace
}  // namespace cdn::live
