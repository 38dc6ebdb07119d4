#include "origin-shield/origin/package.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "common/config/server_config.h"
#include "common/util/clock.h"
#include "origin-shield/origin/live/live_playlist.h"
#include "origin-shield/origin/live/segmenter.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_storage.h"
#include "origin-shield/origin/package_cmaf.h"
#include "origin-shield/origin/segment_store.h"
#include "origin-shield/origin/vod_formats.h"

namespace cdn::origin {
namespace {

int usage() {
  fprintf(stderr,
          "usage: cdn-origin package INPUT.ts --channel NAME [--rendition NAME] "
          "[--config FILE | --store DIR] [--target-duration SECONDS] [--formats ts,fmp4,dash]\n");
  return 2;
}

class Progress {
 public:
  Progress(uint64_t total) : total_(total), tty_(isatty(STDERR_FILENO) != 0) {}
  void update(uint64_t done, uint64_t segments) {
    const int pct = total_ ? int(done * 100 / total_) : 100;
    if (tty_) {
      constexpr int kWidth = 40;
      const int fill = pct * kWidth / 100;
      fprintf(stderr, "\r[%.*s%*s] %3d%%  %llu segments", fill,
              "########################################", kWidth - fill, "", pct,
              (unsigned long long)segments);
      fflush(stderr);
    } else if (pct / 10 != last_ / 10 || done == total_) {
      fprintf(stderr, "package: %d%% (%llu of %llu bytes, %llu segments)\n", pct,
              (unsigned long long)done, (unsigned long long)total_, (unsigned long long)segments);
    }
    last_ = pct;
  }
  void done() {
    if (tty_) fputc('\n', stderr);
  }

 private:
  uint64_t total_;
  bool tty_;
  int last_ = -1;
};

}  // namespace

Result<PackageResult> package_file(SegmentStore& db, const PackageRequest& req,
                                   const std::function<bool(const PackageProgress&)>& progress) {
  const std::string& channel = req.channel;
  const std::string& rendition = req.rendition;
  std::ifstream in(req.input, std::ios::binary);
  if (!in) return make_error(req.input + ": " + strerror(errno));
  in.seekg(0, std::ios::end);
  PackageProgress p;
  p.bytes_total = uint64_t(in.tellg());
  in.seekg(0);

  // Packaging again replaces the rendition, in every format.
  db.remove_segments(channel, rendition, db.segment_sequences(channel, rendition));
  CmafVodWriter::remove_stored(db, channel, rendition);
  std::optional<CmafVodWriter> cmaf;
  if (req.formats.fmp4) cmaf.emplace(db, channel, rendition, req.target_s, req.formats.dash);

  live::LivePlaylist playlist(vod_playlist_config(req.target_s));
  RenditionMeta meta;
  meta.vod = true;
  meta.formats = req.formats;
  int64_t clock_ms = unix_now_ms();
  live::SegmenterConfig sc;
  sc.target_duration_s = req.target_s;
  live::Segmenter* segp = nullptr;
  live::Segmenter seg(sc, [&](live::Segment&& s) {
    if (s.data.empty() || s.duration_s <= 0) return;
    clock_ms += std::llround(s.duration_s * 1000);
    const uint64_t seq = playlist.append(s, clock_ms);
    if (segp) meta.media = segp->media();
    // Without ts the TS playlist is kept all the same (the master's bandwidths and codecs come
    // from it) but its segments are not stored.
    if (req.formats.ts)
      db.put_segment(channel, rendition, seq, clock_ms, std::move(s.data), std::string(),
                     std::string());
    ++p.segments;
  });
  segp = &seg;
  progress(p);
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    const auto n = size_t(in.gcount());
    if (n == 0) break;
    seg.feed(std::string_view(buf.data(), n));
    if (cmaf) cmaf->feed(std::string_view(buf.data(), n));
    p.bytes_done += n;
    if (!progress(p)) return make_error("cancelled");
    db.flush();  // bounded memory: at most one chunk's segments queued
  }
  seg.flush();
  if (cmaf) cmaf->finish();
  progress(p);
  if (p.segments == 0)
    return make_error(req.input + ": no segments (not MPEG-TS, or no keyframes)");
  // Asked for and not made (AC-3 audio, or a video codec the CMAF packager does not take): an
  // error, not a package that is silently TS only.
  if (cmaf && cmaf->segments() == 0)
    return make_error(req.input + ": no fMP4 segments (H.264/HEVC and AAC only)");
  playlist.end();
  const uint64_t errors_before = db.write_errors();
  db.put(SegmentStore::state_key(channel, rendition), playlist.serialize());
  db.put(SegmentStore::meta_key(channel, rendition), meta.encode());
  db.flush();
  if (db.write_errors() != errors_before)
    return make_error(std::to_string(db.write_errors() - errors_before) + " store writes failed");
  return PackageResult{p.segments, seg.stats().max_duration_s, playlist.target_duration()};
}

int package_main(int argc, char** argv) {
  std::string input, channel, rendition = "vod", config_path, store_path;
  std::optional<LiveFormats> formats;
  double target = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string t;
    if (a == "--channel") {
      if (!value(channel)) return usage();
    } else if (a == "--rendition") {
      if (!value(rendition)) return usage();
    } else if (a == "--config") {
      if (!value(config_path)) return usage();
    } else if (a == "--store") {
      if (!value(store_path)) return usage();
    } else if (a == "--target-duration") {
      if (!value(t)) return usage();
      target = std::atof(t.c_str());
      if (!(target >= 0.5 && target <= 60)) {
        fprintf(stderr, "package: --target-duration must be 0.5..60 seconds\n");
        return 2;
      }
    } else if (a == "--formats") {
      if (!value(t)) return usage();
      auto f = parse_vod_formats(t);
      if (!f) {
        fprintf(stderr,
                "package: --formats %s: %s (ts, fmp4, dash; llhls and lldash are live only)\n",
                t.c_str(), f.error().message.c_str());
        return 2;
      }
      formats = *f;
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      fprintf(stderr, "package: unknown option %s\n", a.c_str());
      return usage();
    } else if (input.empty()) {
      input = a;
    } else {
      return usage();
    }
  }
  if (input.empty() || channel.empty()) return usage();
  if (!valid_live_name(channel) || !valid_live_name(rendition)) {
    fprintf(stderr, "package: channel and rendition names must be 1-64 of [A-Za-z0-9._-]\n");
    return 2;
  }
  LiveConfig live;
  if (!config_path.empty()) {
    auto cfg = config::load_server_config(
        config_path, [&](config::MapReader& root) { read_live_section(root, live); });
    if (!cfg) {
      fprintf(stderr, "%s\n", cfg.error().message.c_str());
      return 1;
    }
    if (store_path.empty()) store_path = live.store_path;
    if (target == 0) target = double(live.target_duration_ms) / 1000;
    if (const auto* ch = live.channel(channel)) {
      if (!formats) formats = vod_formats_of(ch->formats);
      for (auto& r : ch->renditions)
        if (r.name == rendition) {
          fprintf(stderr,
                  "package: %s/%s is a configured live rendition; pick another channel or "
                  "--rendition\n",
                  channel.c_str(), rendition.c_str());
          return 1;
        }
    }
  }
  if (store_path.empty()) {
    fprintf(stderr,
            "package: no store: give --config FILE (with a live: section) or --store DIR\n");
    return 2;
  }
  if (target == 0) target = 2.0;

  auto store = SegmentStore::open(store_path);
  if (!store) {
    fprintf(stderr, "package: %s\n", store.error().message.c_str());
    if (store.error().message.find("lock") != std::string::npos)
      fprintf(stderr,
              "package: the store is in use (is cdn-origin running?); stop it, or use "
              "POST /admin/package on its admin listener\n");
    return 1;
  }
  std::unique_ptr<Progress> progress;
  auto r = package_file(*store.value(),
                        {input, channel, rendition, target, formats.value_or(LiveFormats{})},
                        [&](const PackageProgress& p) {
                          if (!progress) progress = std::make_unique<Progress>(p.bytes_total);
                          progress->update(p.bytes_done, p.segments);
                          return true;
                        });
  if (progress) progress->done();
  if (!r) {
    fprintf(stderr, "package: %s\n", r.error().message.c_str());
    return 1;
  }
  fprintf(stderr,
          "package: %llu segments (longest %.3f s, target %d s) stored as /live/%s/%s/ in %s\n",
          (unsigned long long)r->segments, r->longest_s, r->target_duration, channel.c_str(),
          rendition.c_str(), vod_formats_text(formats.value_or(LiveFormats{})).c_str());
  printf("/live/%s/master.m3u8\n", channel.c_str());
  return 0;
}

}  // namespace cdn::origin
