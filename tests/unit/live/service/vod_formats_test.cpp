// The formats of packaged VOD: what --formats / formats= accept and refuse, and that the store's
// rendition record keeps them (older records, written before formats existed, read as TS only).
#include "origin-shield/origin/vod_formats.h"

#include <gtest/gtest.h>

#include "origin-shield/origin/live_storage.h"

namespace cdn::origin {
namespace {

TEST(VodFormats, ParsesTheLiveVocabularyWithoutLowLatency) {
  auto all = parse_vod_formats("dash,ts");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->ts && all->fmp4 && all->dash);  // dash implies fmp4, as in live
  EXPECT_FALSE(all->llhls || all->lldash);
  EXPECT_EQ(vod_formats_text(*all), "ts,fmp4,dash");
  auto fmp4 = parse_vod_formats("fmp4");
  ASSERT_TRUE(fmp4);
  EXPECT_FALSE(fmp4->ts || fmp4->dash);
  EXPECT_EQ(vod_formats_text(*fmp4), "fmp4");
  for (auto [text, reason] : {std::pair{"llhls", "format-not-for-vod"},
                              {"ts,lldash", "format-not-for-vod"},
                              {"ts,webm", "unknown-format"},
                              {"", "formats-empty"},
                              {"ts,", "formats-empty"}}) {
    auto f = parse_vod_formats(text);
    ASSERT_FALSE(f) << text;
    EXPECT_EQ(f.error().message, reason) << text;
  }
}

TEST(VodFormats, AChannelsLowLatencyFormatsPackageAsTheirPlainOnes) {
  LiveFormats live{false, true, true, true, true};  // lldash
  EXPECT_EQ(vod_formats_text(vod_formats_of(live)), "fmp4,dash");
  EXPECT_EQ(vod_formats_text(vod_formats_of(LiveFormats{})), "ts");
}

TEST(VodFormats, RenditionRecordKeepsThemAndOldRecordsAreTs) {
  RenditionMeta m;
  m.vod = true;
  m.media.width = 320;
  m.formats = *parse_vod_formats("dash");
  const RenditionMeta back = RenditionMeta::decode(m.encode());
  EXPECT_TRUE(back.vod);
  EXPECT_EQ(back.media.width, 320);
  EXPECT_EQ(back.formats, m.formats);
  const RenditionMeta old =
      RenditionMeta::decode("cdn-live-meta 1\nvod\n320\n240\n3600\navc1.64000d\nmp4a.40.2\n");
  EXPECT_TRUE(old.vod);
  EXPECT_EQ(old.formats, LiveFormats{});
}

}  // namespace
}  // namespace cdn::origin
