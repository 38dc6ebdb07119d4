// The live origin's units on real threads: serving reads published snapshots and never waits for
// an ingest lock; ingest pushing into several channels while readers fetch playlists and the
// segments they list always yields a consistent view. Built as its own binary (linked to
// cdn_origin) and labelled `concurrency` so the TSan stage runs it.
#include <gtest/gtest.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/util/clock.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_serving.h"
#include "origin-shield/origin/live_storage.h"
#include "tests/unit/live/media_fixture.h"

namespace cdn::origin {
namespace {

using live::testing::Clip;
using live::testing::clip_path;
using live::testing::read_file;

constexpr size_t kChunk = 7 * 188;  // one UDP datagram's worth, as encoders send it

struct Playlist {
  uint64_t media_sequence = 0;
  std::vector<std::string> uris;
};

Playlist parse_playlist(const std::string& text) {
  Playlist p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0)
      p.media_sequence = std::stoull(line.substr(22));
    if (!line.empty() && line[0] != '#') p.uris.push_back(line);
  }
  return p;
}

std::string body_of(const LiveAnswer& a) {
  return a.body ? *a.body : std::string();
}

class LiveConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    clip_ = read_file(clip_path(Clip::kH264Aac10s));
    if (clip_.empty()) GTEST_SKIP() << "ffmpeg could not make the clip";
    char tmpl[] = "/tmp/cdn-live-concurrency-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cfg_.enabled = true;
    cfg_.store_path = dir_ + "/store";
    cfg_.target_duration_ms = 2000;
    cfg_.window_segments = 6;
    cfg_.dvr_window_ms = 60'000;
    cfg_.input_gap_ms = 60'000;  // inputs never time out on their own here
    for (const char* name : {"a", "b"})
      cfg_.channels.push_back({name, "key", {{"r", std::nullopt, std::nullopt, {}}}, {}});
    auto storage = LiveStorage::open(cfg_.store_path);
    ASSERT_TRUE(storage) << storage.error().message;
    storage_ = storage.value();
    channels_ = std::make_unique<LiveChannels>(cfg_, storage_);
    serving_ = std::make_unique<LiveServing>(*channels_, storage_, origin_);
  }
  void TearDown() override {
    serving_.reset();
    channels_.reset();
    if (storage_) storage_->flush();
    storage_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  LiveAnswer get(const std::string& rest) const {
    http::Request req;
    req.method = "GET";
    req.path = "/live/" + rest;
    req.target = req.path;
    return serving_->answer(req, rest);
  }

  // Pushes the whole clip through one new input and closes it (an encoder run).
  void push_clip(LiveRendition& r, uint64_t source_id) {
    LiveSource src;
    src.id = source_id;
    src.kind = "http";
    for (size_t off = 0; off < clip_.size(); off += kChunk)
      r.on_data(src, clip_.data() + off, std::min(kChunk, clip_.size() - off));
    r.on_source_end(src);
  }

  std::string clip_, dir_;
  LiveConfig cfg_;
  config::OriginConfig origin_;
  std::shared_ptr<LiveStorage> storage_;
  std::unique_ptr<LiveChannels> channels_;
  std::unique_ptr<LiveServing> serving_;
};

TEST_F(LiveConcurrency, ChannelAIsServedWhileChannelBHoldsItsIngestLock) {
  LiveRendition* a = channels_->find("a", "r");
  LiveRendition* b = channels_->find("b", "r");
  ASSERT_TRUE(a && b);
  push_clip(*a, 1);
  push_clip(*b, 2);

  std::promise<void> locked, release;
  std::thread demux([&] {
    // Stands for a long demux in B: on_data holds exactly this lock while it feeds the segmenter.
    b->with_ingest_lock([&] {
      locked.set_value();
      release.get_future().wait();
    });
  });
  locked.get_future().wait();

  auto answers = std::async(std::launch::async, [&] {
    return std::vector<LiveAnswer>{get("a/r/index.m3u8"), get("a/r/0.ts"), get("a/master.m3u8"),
                                   get("b/r/index.m3u8"), get("b/master.m3u8")};
  });
  const bool answered = answers.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  release.set_value();  // let a blocked reader finish either way
  demux.join();
  ASSERT_TRUE(answered) << "live requests waited for channel B's ingest lock";

  auto v = answers.get();
  EXPECT_EQ(v[0].status, 200);
  Playlist pa = parse_playlist(body_of(v[0]));
  EXPECT_GE(pa.uris.size(), 4u) << body_of(v[0]);
  EXPECT_EQ(v[1].status, 200);
  ASSERT_FALSE(body_of(v[1]).empty());
  EXPECT_EQ(body_of(v[1])[0], '\x47');  // an MPEG-TS sync byte
  EXPECT_EQ(v[2].status, 200);
  EXPECT_NE(body_of(v[2]).find("r/index.m3u8"), std::string::npos) << body_of(v[2]);
  EXPECT_EQ(v[3].status, 200);  // B's own playlist does not wait for B's ingest either
  EXPECT_EQ(v[4].status, 200);
}

TEST_F(LiveConcurrency, ReadersSeeConsistentPlaylistsWhileIngestPushes) {
  constexpr int kRuns = 8;  // encoder restarts per channel: ~40 segments, beyond the memory window
  std::atomic<bool> done{false}, ingest_stalled{false};
  std::atomic<uint64_t> playlists_read{0}, segments_read{0};
  std::vector<std::thread> ingest;
  uint64_t next_id = 1;
  for (const char* ch : {"a", "b"}) {
    LiveRendition* r = channels_->find(ch, "r");
    ASSERT_TRUE(r);
    const uint64_t first = next_id;
    next_id += kRuns;
    ingest.emplace_back([this, r, first, &playlists_read, &ingest_stalled] {
      for (int i = 0; i < kRuns; ++i) {
        const uint64_t before = playlists_read;
        push_clip(*r, first + uint64_t(i));
        // Demuxing a clip takes milliseconds: let readers in between runs so that they overlap
        // the next ones (a wait on their progress, bounded so a stuck reader fails the test).
        const int64_t deadline = mono_ms() + 10'000;
        while (playlists_read < before + 2 && mono_ms() < deadline) std::this_thread::yield();
        if (playlists_read < before + 2) ingest_stalled = true;
      }
    });
  }
  // Housekeeping as the timer runs it, concurrently with ingest and readers.
  std::thread housekeeping([&] {
    while (!done) {
      for (auto& r : channels_->all()) r->housekeep(mono_ms(), unix_now_ms());
      std::this_thread::yield();
    }
  });

  std::vector<std::string> failures[3];
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::map<std::string, uint64_t> last_sequence;
      auto fail = [&](std::string what) { failures[t].push_back(std::move(what)); };
      while (!done) {
        for (std::string ch : {"a", "b"}) {
          LiveAnswer pl = get(ch + "/r/index.m3u8");
          if (pl.status == 404 && pl.error == std::string("no-segments-yet")) continue;
          if (pl.status != 200) return fail(ch + " playlist status " + std::to_string(pl.status));
          ++playlists_read;
          Playlist p = parse_playlist(body_of(pl));
          if (p.media_sequence < last_sequence[ch]) return fail(ch + " media sequence went back");
          last_sequence[ch] = p.media_sequence;
          // One snapshot is one instant: what its playlist lists is in its memory segments.
          auto snap = channels_->find(ch, "r")->snapshot();
          for (const auto& uri : parse_playlist(*snap->live_text).uris) {
            const uint64_t seq = std::stoull(uri);
            if (!snap->recent.count(seq) || seq >= snap->next_sequence)
              return fail(ch + "/" + uri + " listed by a snapshot that does not hold it");
          }
          // Every segment a playlist lists is servable: from memory, or from the store once
          // newer segments pushed it out of memory (a reader that fell behind).
          for (const auto& uri : p.uris) {
            LiveAnswer seg = get(ch + "/r/" + uri);
            if (seg.store_read) continue;
            if (seg.status != 200 || body_of(seg).empty() || body_of(seg)[0] != '\x47')
              return fail(ch + "/" + uri + " listed but answered " + std::to_string(seg.status));
            ++segments_read;
          }
          if (get(ch + "/master.m3u8").status != 200) return fail(ch + " master");
        }
      }
    });
  }
  for (auto& th : ingest) th.join();
  done = true;
  housekeeping.join();
  for (auto& th : readers) th.join();
  for (int t = 0; t < 3; ++t) EXPECT_TRUE(failures[t].empty()) << failures[t].front();
  EXPECT_FALSE(ingest_stalled) << "readers made no progress while ingest waited for them";
  EXPECT_GT(playlists_read.load(), 0u);
  EXPECT_GT(segments_read.load(), 0u);

  // Afterwards: both channels hold every segment, and the oldest (out of memory) comes from the
  // store.
  for (const char* ch : {"a", "b"}) {
    auto snap = channels_->find(ch, "r")->snapshot();
    EXPECT_GE(snap->next_sequence, uint64_t(kRuns * 4)) << ch;
    LiveAnswer first = get(std::string(ch) + "/r/0.ts");
    ASSERT_TRUE(first.store_read) << ch << ": segment 0 should have left memory";
    storage_->flush();
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    std::optional<StoredSegment> stored;
    bool called = false;
    ASSERT_TRUE(storage_->read_segment(&loop, ch, "r", 0, [&](std::optional<StoredSegment> s) {
      called = true;
      stored = std::move(s);
    }));
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ASSERT_TRUE(called);
    ASSERT_TRUE(stored) << ch;
    EXPECT_EQ(stored->data[0], '\x47');
  }
}

}  // namespace
}  // namespace cdn::origin
