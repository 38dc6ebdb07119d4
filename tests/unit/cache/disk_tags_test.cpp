// Surrogate-key records and soft purges in the disk tier: they survive a reopen and go with the
// object (erase, purge, eviction).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "common/cache/disk_tier.h"
#include "common/cache/freshness.h"
#include "common/cache/purge_marks.h"
#include "tests/unit/cache/temp_dir.h"
#include "tests/unit/cache/test_objects.h"

namespace cdn::cache {
namespace {

using testing::make_object;
using testing::TempDir;
using Keys = std::vector<std::string>;

ObjectRef tagged(std::string key, std::string tags, size_t body = 100) {
  auto o = make_object(std::move(key), std::string(body, 'b'));
  o.meta.headers.push_back({"Surrogate-Key", std::move(tags)});
  return std::make_shared<const CachedObject>(std::move(o));
}

std::unique_ptr<DiskTier> open_at(const std::string& path, uint64_t max_bytes = 0,
                                  std::function<void(std::string_view)> on_removed = nullptr) {
  DiskOptions o;
  o.path = path;
  o.blob_min_size = 256;
  o.max_bytes = max_bytes;
  o.on_removed = std::move(on_removed);
  auto r = DiskTier::open(o);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? std::move(r.value()) : nullptr;
}

Keys sorted(Keys k) {
  std::sort(k.begin(), k.end());
  return k;
}

TEST(DiskTags, SurviveReopenAndFollowOverwriteAndErase) {
  TempDir dir;
  {
    auto t = open_at(dir.path() + "/db");
    t->put_async(tagged("h/a", "x y"));
    t->put_async(tagged("h/b", "y"));
    t->put_async(tagged("h/c", "z"));
    t->wait_idle();
    t->put_async(tagged("h/c", "y"));  // overwritten with other keys
    t->wait_idle();
  }
  auto t = open_at(dir.path() + "/db");
  EXPECT_EQ(sorted(t->objects_with_tag("y")), (Keys{"h/a", "h/b", "h/c"}));
  EXPECT_EQ(t->objects_with_tag("z"), Keys{});
  std::map<std::string, Keys> all;
  t->for_each_object_tags(
      [&](std::string_view k, const Keys& keys) { all[std::string(k)] = keys; });
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(all["h/a"], (Keys{"x", "y"}));
  EXPECT_TRUE(t->erase("h/a"));
  EXPECT_EQ(t->erase_prefix("h/"), 2u);
  EXPECT_EQ(t->objects_with_tag("y"), Keys{});
  size_t left = 0;
  t->for_each_object_tags([&](std::string_view, const Keys&) { ++left; });
  EXPECT_EQ(left, 0u);
}

TEST(DiskTags, EraseAndMarkManyInBatches) {
  TempDir dir;
  auto t = open_at(dir.path() + "/db");
  std::vector<std::string> keys;
  for (int i = 0; i < 600; ++i) {  // more than one write batch
    keys.push_back("h/" + std::to_string(i));
    t->put_async(tagged(keys.back(), "k"));
  }
  t->wait_idle();
  std::vector<std::string> first(keys.begin(), keys.begin() + 300),
      rest(keys.begin() + 300, keys.end());
  first.push_back("h/absent");
  EXPECT_EQ(t->mark_stale_many(rest), 300u);
  EXPECT_EQ(t->erase_many(first), 300u);
  EXPECT_EQ(t->objects_with_tag("k").size(), 300u);
  auto o = t->get_sync("h/450");
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->meta.soft_purged);
  EXPECT_FALSE(t->get_sync("h/10"));
}

TEST(DiskTags, EvictionDeletesTheRecordsAndReportsTheKey) {
  TempDir dir;
  std::mutex mu;
  std::vector<std::string> removed;
  auto t = open_at(dir.path() + "/db", 64 * 1024, [&](std::string_view k) {
    std::lock_guard l(mu);
    removed.emplace_back(k);
  });
  for (int i = 0; i < 40; ++i) {
    t->put_async(tagged("h/" + std::to_string(i), "all", 4096));
    t->wait_idle();
  }
  auto still = t->objects_with_tag("all");
  std::lock_guard l(mu);
  ASSERT_FALSE(removed.empty());
  EXPECT_EQ(still.size() + removed.size(), 40u);
  for (const auto& k : removed) EXPECT_EQ(std::count(still.begin(), still.end(), k), 0);
  EXPECT_EQ(std::count(removed.begin(), removed.end(), "h/0"), 1);
}

TEST(DiskTags, SoftPurgeMarksTheStoredHeadAndSurvivesReopen) {
  TempDir dir;
  {
    auto t = open_at(dir.path() + "/db");
    t->put_async(tagged("h/a", "x"));
    t->put_async(tagged("h/big", "x", 600 * 1024));  // chunked: only the head is rewritten
    t->put_async(tagged("g/c", "x"));
    t->wait_idle();
    EXPECT_TRUE(t->mark_stale("h/a"));
    EXPECT_FALSE(t->mark_stale("h/none"));
    EXPECT_EQ(t->mark_stale_prefix("h/"), 2u);
  }
  auto t = open_at(dir.path() + "/db");
  auto a = t->get_sync("h/a");
  auto big = t->get_sync("h/big");
  auto c = t->get_sync("g/c");
  ASSERT_TRUE(a && big && c);
  EXPECT_TRUE(a->meta.soft_purged);
  EXPECT_TRUE(big->meta.soft_purged);
  EXPECT_EQ(big->body.size, 600u * 1024);
  EXPECT_FALSE(c->meta.soft_purged);
}

TEST(SoftPurge, MakesAFreshObjectStaleIfErrorOnlyAndRespectsMustRevalidate) {
  auto o = make_object("h/a", "x");  // fresh 60 s, swr 5, sie 30
  const int64_t now = o.meta.response_time_ms / 1000 + 1;
  EXPECT_EQ(classify(o.meta, now), Freshness::Fresh);
  o.meta.soft_purged = true;
  EXPECT_EQ(classify(o.meta, now), Freshness::StaleIfError);
  EXPECT_EQ(classify(o.meta, now + 60 + 40), Freshness::Expired);
  o.meta.stale_if_error_s = 0;
  EXPECT_EQ(classify(o.meta, now), Freshness::Expired);
  o.meta.stale_if_error_s = 30;
  o.meta.must_revalidate = true;
  EXPECT_EQ(classify(o.meta, now), Freshness::Expired);
}

TEST(SoftPurge, StaleBeforeCutoffMarksOlderObjectsOnly) {
  // The cutoff is process-wide and only moves forward: these objects live near the epoch so that
  // it stays far below every other test's objects.
  auto at = [](int64_t response_ms) {
    auto o = make_object("h/a", "x");
    o.meta.request_time_ms = response_ms - 100;
    o.meta.response_time_ms = response_ms;
    o.meta.date_s = response_ms / 1000;
    return o;
  };
  auto old_obj = at(1'000), new_obj = at(3'000);
  const int64_t now = 5;
  ASSERT_EQ(classify(old_obj.meta, now), Freshness::Fresh);
  set_stale_before_ms(2'000);
  EXPECT_EQ(classify(old_obj.meta, now), Freshness::StaleIfError);
  EXPECT_EQ(classify(new_obj.meta, now), Freshness::Fresh);
  set_stale_before_ms(0);  // never moves back
  EXPECT_EQ(stale_before_ms(), 2'000);
}

}  // namespace
}  // namespace cdn::cache
