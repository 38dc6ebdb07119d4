// The channel table's changes: ChannelOverlay (how API changes combine with the config file and
// survive a restart), channel_problem (the rules API adds share with the file), and
// LiveChannels::apply (only what changed is touched; a table a reader holds stays usable; a
// channel removed and added again continues its rendition).
#include "origin-shield/origin/live_channels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "origin-shield/origin/live_channel_overlay.h"
#include "origin-shield/origin/live_storage.h"
#include "tests/unit/live/media_fixture.h"

namespace cdn::origin {
namespace {

LiveChannelConfig ch(const std::string& name, const std::string& key = "key",
                     std::vector<std::string> renditions = {"r"}) {
  LiveChannelConfig c{name, key, {}, {}};
  for (auto& r : renditions) c.renditions.push_back({r, std::nullopt, std::nullopt, {}});
  return c;
}

std::vector<std::string> names(const std::vector<LiveChannelConfig>& v) {
  std::vector<std::string> out;
  for (auto& c : v) out.push_back(c.name);
  return out;
}

TEST(ChannelOverlay, ApiChangesGoOnTopOfTheFile) {
  const std::vector<LiveChannelConfig> file{ch("a"), ch("b"), ch("c")};
  ChannelOverlay o;
  EXPECT_EQ(names(o.effective(file)), (std::vector<std::string>{"a", "b", "c"}));
  o.define(ch("z"), file);
  o.define(ch("b", "new-key"), file);
  o.remove("c", file);
  auto eff = o.effective(file);
  EXPECT_EQ(names(eff), (std::vector<std::string>{"a", "b", "z"}));
  EXPECT_EQ(eff[1].stream_key, "new-key");
  EXPECT_TRUE(o.defines("b"));
  EXPECT_TRUE(o.defines("z"));
  EXPECT_FALSE(o.defines("a"));
  EXPECT_FALSE(o.defines("c"));
  // Removing a channel only the API added leaves nothing behind.
  o.remove("z", file);
  EXPECT_EQ(o.size(), 2u);
}

TEST(ChannelOverlay, TheFileWinsOnceItChangesAChannelAgain) {
  const std::vector<LiveChannelConfig> file{ch("a"), ch("b")};
  ChannelOverlay o;
  o.define(ch("a", "api-key"), file);
  o.remove("b", file);
  o.define(ch("n"), file);
  EXPECT_TRUE(o.prune(file).empty());  // the file as it was: every entry stays
  // The file now gives a another key, adds n itself and leaves b as it was.
  const std::vector<LiveChannelConfig> edited{ch("a", "file-key"), ch("b"), ch("n", "file-n")};
  auto dropped = o.prune(edited);
  std::sort(dropped.begin(), dropped.end());
  EXPECT_EQ(dropped, (std::vector<std::string>{"a", "n"}));
  auto eff = o.effective(edited);
  EXPECT_EQ(names(eff), (std::vector<std::string>{"a", "n"}));  // b still removed
  EXPECT_EQ(eff[0].stream_key, "file-key");
  EXPECT_EQ(eff[1].stream_key, "file-n");
}

TEST(ChannelOverlay, SerializesAndParsesBack) {
  const std::vector<LiveChannelConfig> file{ch("a"), ch("b")};
  ChannelOverlay o;
  auto udp = ch("u", "k2", {"hi", "lo"});
  udp.renditions[0].udp = config::HostPort{"127.0.0.1", 5000};
  udp.renditions[1].udp_backup = config::HostPort{"::1", 5001};
  udp.renditions[1].ingest.srt_pull =
      ingest::parse_srt_url("srt://127.0.0.1:9000?passphrase=0123456789&latency=200ms").value();
  auto repulled = udp;  // a changed srt_pull is a changed channel
  repulled.renditions[1].ingest.srt_pull->latency_ms = 300;
  EXPECT_NE(repulled, udp);
  o.define(udp, file);
  o.remove("b", file);
  auto back = ChannelOverlay::parse(o.serialize());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->effective(file), o.effective(file));
  EXPECT_TRUE(back->prune(file).empty());
  EXPECT_FALSE(ChannelOverlay::parse("{"));
  EXPECT_FALSE(ChannelOverlay::parse(R"({"version":2,"entries":[]})"));
  EXPECT_FALSE(ChannelOverlay::parse(R"({"version":1,"entries":[{"name":"x"}]})"));
}

TEST(ChannelProblem, SameRulesAsTheFile) {
  const std::vector<LiveChannelConfig> others{ch("a")};
  EXPECT_EQ(channel_problem(ch("b"), others), std::nullopt);
  EXPECT_EQ(channel_problem(ch("a"), others), "channel-exists");
  EXPECT_EQ(channel_problem(ch("a/b"), others), "bad-channel-name");
  EXPECT_EQ(channel_problem(ch("b", ""), others), "bad-stream-key");
  EXPECT_EQ(channel_problem(ch("b", "a b"), others), "bad-stream-key");
  EXPECT_EQ(channel_problem(ch("b", "k", {}), others), "renditions-required");
  EXPECT_EQ(channel_problem(ch("b", "k", {"r", "r"}), others), "duplicate-rendition");
  EXPECT_EQ(channel_problem(ch("b", "k", {".."}), others), "bad-rendition-name");
  auto x = ch("x"), y = ch("y");
  x.renditions[0].udp = config::HostPort{"127.0.0.1", 5000};
  y.renditions[0].udp_backup = config::HostPort{"127.0.0.1", 5000};
  EXPECT_EQ(channel_problem(y, {x}), "udp-address-in-use");
}

class LiveChannelsApply : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdn-live-channels-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cfg_.enabled = true;
    cfg_.store_path = dir_ + "/store";
    cfg_.channels = {ch("a"), ch("b", "key", {"hi", "lo"})};
    auto storage = LiveStorage::open(cfg_.store_path);
    ASSERT_TRUE(storage) << storage.error().message;
    storage_ = storage.value();
    channels_ = std::make_unique<LiveChannels>(cfg_, storage_);
  }
  void TearDown() override {
    channels_.reset();
    if (storage_) storage_->flush();
    storage_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  LiveConfig cfg_;
  std::shared_ptr<LiveStorage> storage_;
  std::unique_ptr<LiveChannels> channels_;
};

TEST_F(LiveChannelsApply, OnlyWhatChangedIsTouched) {
  auto before = channels_->table();
  LiveRendition* a = channels_->find("a", "r");
  LiveRendition* hi = channels_->find("b", "hi");
  ASSERT_TRUE(a && hi);
  auto change = channels_->apply({ch("a", "rotated"), ch("b", "key", {"hi", "lo"}), ch("c")});
  EXPECT_EQ(change.added, std::vector<std::string>{"c"});
  EXPECT_EQ(change.rekeyed, std::vector<std::string>{"a"});
  EXPECT_TRUE(change.removed.empty() && change.redefined.empty());
  auto after = channels_->table();
  EXPECT_NE(before, after);
  // The same rendition objects, still taking ingest: a running stream is not disturbed.
  EXPECT_EQ(after->find("a", "r"), a);
  EXPECT_EQ(after->find("b", "hi"), hi);
  EXPECT_TRUE(a->configured() && hi->configured());
  EXPECT_EQ(after->find("a")->ingest->stream_key, "rotated");
  ASSERT_NE(after->find("c", "r"), nullptr);
  // The table a reader took before the change still answers as it did.
  EXPECT_EQ(before->find("a")->ingest->stream_key, "key");
  EXPECT_EQ(before->find("c"), nullptr);
}

TEST_F(LiveChannelsApply, RemovedChannelsEndAndComeBackWithTheirRenditions) {
  LiveRendition* hi = channels_->find("b", "hi");
  LiveRendition* lo = channels_->find("b", "lo");
  auto change = channels_->apply({ch("a"), ch("b", "key", {"hi"})});
  EXPECT_EQ(change.redefined, std::vector<std::string>{"b"});
  EXPECT_TRUE(hi->configured());
  EXPECT_FALSE(lo->configured());  // no longer in its channel: no ingest, still served
  auto t = channels_->table();
  EXPECT_EQ(t->find("b")->master, std::vector<LiveRendition*>{hi});
  EXPECT_EQ(t->find("b", "lo"), lo);

  change = channels_->apply({ch("a")});
  EXPECT_EQ(change.removed, std::vector<std::string>{"b"});
  t = channels_->table();
  ASSERT_NE(t->find("b"), nullptr);
  EXPECT_EQ(t->find("b")->ingest, nullptr);  // read-only
  EXPECT_FALSE(hi->configured());
  EXPECT_EQ(t->find("b")->master.size(), 2u);

  change = channels_->apply({ch("a"), ch("b", "key", {"hi", "lo"})});
  EXPECT_EQ(change.added, std::vector<std::string>{"b"});
  EXPECT_EQ(channels_->find("b", "hi"), hi);  // the same object: its media sequence continues
  EXPECT_TRUE(hi->configured() && lo->configured());
  EXPECT_EQ(channels_->table()->all.size(), 3u);
}

TEST_F(LiveChannelsApply, ReadersNeverSeeAHalfAppliedTable) {
  std::atomic<bool> stop{false};
  std::atomic<size_t> reads{0};
  std::thread reader([&] {
    while (!stop) {
      auto t = channels_->table();
      for (auto& [name, view] : t->channels) {
        if (!view.ingest) continue;
        // Every ingest rendition of a channel's definition is in its view, in order.
        ASSERT_EQ(view.master.size(), view.ingest->renditions.size());
        for (size_t i = 0; i < view.master.size(); ++i)
          ASSERT_EQ(view.master[i]->name(), view.ingest->renditions[i].name);
      }
      ++reads;
    }
  });
  for (int i = 0; i < 200; ++i) {
    const std::string k = std::to_string(i);
    channels_->apply(
        {ch("a", k),
         ch("b", "key",
            i % 2 ? std::vector<std::string>{"hi"} : std::vector<std::string>{"lo", "hi"}),
         ch("c" + std::to_string(i % 5))});
  }
  while (reads < 100) std::this_thread::yield();
  stop = true;
  reader.join();
}

}  // namespace
}  // namespace cdn::origin
