#pragma once
// `POST /admin/package`: packages an MPEG-TS file into the running origin's live store as VOD
// (TS and fMP4 HLS, DASH: package.h), on a job thread of its own (a big file takes a while; no
// event loop waits for it), then serves it read-only at /live/<channel>/<rendition>/. `GET
// /admin/package` lists the jobs with their progress. The origin no longer has to be stopped to
// package.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/cache/thread_pool.h"
#include "origin-shield/origin/live_channel_control.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_storage.h"
#include "origin-shield/origin/package.h"

namespace cdn::origin {

class LivePackager {
 public:
  LivePackager(std::shared_ptr<LiveStorage> storage, LiveChannels& channels,
               double default_target_s)
      : storage_(std::move(storage)), channels_(channels), default_target_s_(default_target_s) {}

  // Any thread. Query: input=PATH&channel=NAME[&rendition=vod][&target_duration=SECONDS]
  // [&formats=ts,fmp4,dash] (default: the channel's formats if it is configured, else ts).
  // 202 with the job's id, or a refusal (400 with the reason: format-not-for-vod for llhls and
  // lldash, unknown-format, formats-empty...; 409 for a live rendition or a job already
  // packaging the same rendition).
  AdminOutcome start(std::string_view query);
  AdminOutcome list();
  // Cancels the running job at its next chunk (package it again later) and drops the queued ones.
  void stop();

 private:
  struct Job {
    uint64_t id = 0;
    PackageRequest req;
    std::string state = "queued";  // queued, running, done, failed
    PackageProgress progress;
    std::string error;
  };
  void run(const std::shared_ptr<Job>& job);

  std::shared_ptr<LiveStorage> storage_;
  LiveChannels& channels_;
  const double default_target_s_;
  std::mutex mu_;  // the job list (admin requests and the job thread only)
  std::vector<std::shared_ptr<Job>> jobs_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  cache::ThreadPool pool_{1};  // last: joined before the rest goes
};

}  // namespace cdn::origin
