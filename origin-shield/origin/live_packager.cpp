#include "origin-shield/origin/live_packager.h"

#include <algorithm>
#include <cstdlib>

#include "common/auth/json.h"
#include "common/obs/log.h"
#include "common/util/strings.h"
#include "origin-shield/origin/vod_formats.h"

namespace cdn::origin {

namespace json = auth::json;

namespace {

constexpr size_t kKeptJobs = 32;  // finished jobs listed, newest first

std::optional<std::string> param(std::string_view query, std::string_view name) {
  for (auto part : split(query, '&')) {
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return url_decode(part.substr(eq + 1));
  }
  return std::nullopt;
}

json::Value num(uint64_t n) {
  return json::Value{json::Number{double(n), int64_t(n)}};
}

}  // namespace

AdminOutcome LivePackager::start(std::string_view query) {
  PackageRequest req;
  req.input = param(query, "input").value_or("");
  req.channel = param(query, "channel").value_or("");
  req.rendition = param(query, "rendition").value_or("vod");
  req.target_s = default_target_s_;
  if (req.input.empty() || req.input[0] != '/')
    return AdminOutcome::error(400, "input-path-required");
  if (!valid_live_name(req.channel)) return AdminOutcome::error(400, "bad-channel-name");
  if (!valid_live_name(req.rendition)) return AdminOutcome::error(400, "bad-rendition-name");
  if (auto t = param(query, "target_duration")) {
    char* end = nullptr;
    req.target_s = std::strtod(t->c_str(), &end);
    if (t->empty() || *end || !(req.target_s >= 0.5 && req.target_s <= 60))
      return AdminOutcome::error(400, "bad-target-duration");
  }
  auto table = channels_.table();
  const ChannelView* view = table->find(req.channel);
  if (view && view->ingest)
    for (const LiveRendition* r : view->master)
      if (r->name() == req.rendition) return AdminOutcome::error(409, "live-rendition");
  if (auto f = param(query, "formats")) {
    auto parsed = parse_vod_formats(*f);
    if (!parsed) return AdminOutcome::error(400, parsed.error().message);
    req.formats = *parsed;
  } else if (view && view->ingest) {
    req.formats = vod_formats_of(view->ingest->formats);  // the channel's, as VOD
  }
  auto job = std::make_shared<Job>();
  {
    std::lock_guard lk(mu_);
    for (auto& j : jobs_)
      if ((j->state == "queued" || j->state == "running") && j->req.channel == req.channel &&
          j->req.rendition == req.rendition)
        return AdminOutcome::error(409, "package-running");
    job->id = next_id_++;
    job->req = std::move(req);
    jobs_.insert(jobs_.begin(), job);
    size_t finished = 0;
    std::erase_if(jobs_, [&](const std::shared_ptr<Job>& j) {
      return (j->state == "done" || j->state == "failed") && ++finished > kKeptJobs;
    });
  }
  pool_.submit([this, job] { run(job); });
  json::Object o;
  json::set(o, "job", num(job->id));
  json::set(o, "playlist",
            json::Value{"/live/" + job->req.channel + "/" + job->req.rendition + "/index.m3u8"});
  json::set(o, "formats", json::Value{vod_formats_text(job->req.formats)});
  if (job->req.formats.dash)
    json::set(o, "manifest", json::Value{"/live/" + job->req.channel + "/manifest.mpd"});
  return {202, {}, json::serialize(json::Value{std::move(o)}) + "\n"};
}

void LivePackager::run(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) {
      job->state = "failed";
      job->error = "shutting down";
      return;
    }
    job->state = "running";
  }
  obs::log(obs::Level::Info, "package started",
           {{"input", job->req.input},
            {"channel", job->req.channel},
            {"rendition", job->req.rendition}});
  auto r = package_file(*storage_->segment_store(), job->req, [&](const PackageProgress& p) {
    std::lock_guard lk(mu_);
    job->progress = p;
    return !stopping_;
  });
  if (r && !channels_.load_packaged(job->req.channel, job->req.rendition))
    r = make_error("a live channel took " + job->req.channel + "/" + job->req.rendition +
                   " meanwhile");
  std::lock_guard lk(mu_);
  job->state = r ? "done" : "failed";
  if (!r) job->error = r.error().message;
  obs::log(r ? obs::Level::Info : obs::Level::Error, r ? "package done" : "package failed",
           {{"channel", job->req.channel},
            {"rendition", job->req.rendition},
            {"segments", std::to_string(job->progress.segments)},
            {"error", job->error}});
}

AdminOutcome LivePackager::list() {
  json::Array jobs;
  std::lock_guard lk(mu_);
  for (auto& j : jobs_) {
    json::Object o;
    json::set(o, "job", num(j->id));
    json::set(o, "input", json::Value{j->req.input});
    json::set(o, "channel", json::Value{j->req.channel});
    json::set(o, "rendition", json::Value{j->req.rendition});
    json::set(o, "formats", json::Value{vod_formats_text(j->req.formats)});
    json::set(o, "state", json::Value{j->state});
    json::set(o, "bytes_done", num(j->progress.bytes_done));
    json::set(o, "bytes_total", num(j->progress.bytes_total));
    json::set(o, "segments", num(j->progress.segments));
    if (!j->error.empty()) json::set(o, "error", json::Value{j->error});
    jobs.push_back(json::Value{std::move(o)});
  }
  json::Object doc;
  json::set(doc, "jobs", json::Value{std::move(jobs)});
  return {200, {}, json::serialize(json::Value{std::move(doc)}) + "\n"};
}

void LivePackager::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  pool_.wait_idle();
}

}  // namespace cdn::origin
