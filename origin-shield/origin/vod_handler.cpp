#include "origin-shield/origin/vod_handler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <uv.h>

#include <utility>

#include "common/http/conditional.h"
#include "common/http/range.h"
#include "common/net/worker.h"
#include "common/util/clock.h"
#include "common/util/http_date.h"
#include "common/util/strings.h"
#include "origin-shield/origin/vod_stream.h"

namespace cdn::origin {

std::string_view content_type_for(std::string_view p) {
  auto ends = [&](std::string_view s) { return p.size() >= s.size() && p.substr(p.size() - s.size()) == s; };
  if (ends(".m3u8")) return "application/vnd.apple.mpegurl";
  if (ends(".ts")) return "video/mp2t";
  if (ends(".m4s")) return "video/iso.segment";
  if (ends(".mp4")) return "video/mp4";
  if (ends(".aac")) return "audio/aac";
  if (ends(".vtt")) return "text/vtt";
  if (ends(".mpd")) return "application/dash+xml";
  if (ends(".key")) return "application/octet-stream";
  // A player page and its scripts can sit beside the media and be served through the CDN.
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript";
  if (ends(".css")) return "text/css";
  if (ends(".json")) return "application/json";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

void add_cors(http::Headers& h) {
  h.set("Access-Control-Allow-Origin", "*");
  h.set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Age, X-Cache");
}

bool allow_read_methods(const std::shared_ptr<http::Exchange>& ex) {
  const auto& method = ex->request().method;
  if (method == "GET" || method == "HEAD") return true;
  if (method == "OPTIONS") {
    http::Headers h;
    add_cors(h);
    h.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    h.set("Access-Control-Max-Age", "86400");
    ex->respond(204, std::move(h), std::string_view());
  } else {
    respond_method_not_allowed(ex, "GET, HEAD, OPTIONS");
  }
  return false;
}

void respond_method_not_allowed(const std::shared_ptr<http::Exchange>& ex, std::string allow) {
  http::Headers h;
  add_cors(h);
  h.set("Allow", std::move(allow));
  ex->respond_error(405, "method-not-allowed", std::move(h));
}

namespace {

// A path under root that cannot escape it: no "..", no empty or dot segments, no NUL/backslash.
bool safe_relative(std::string_view rel) {
  if (rel.empty()) return false;
  for (auto seg : split(rel, '/')) {
    if (seg.empty() || seg == "." || seg == "..") return false;
  }
  return rel.find('\0') == std::string_view::npos && rel.find('\\') == std::string_view::npos;
}

// The file is opened and stat'ed with libuv fs requests (the loop's thread pool); its body is
// then streamed by VodStream, so no step blocks the loop or holds the whole file.
struct OpenJob {
  uv_fs_t req{};
  std::string path;
  std::string surrogate_key;  // "vod/<folder>": a title's files are purged together by key
  std::shared_ptr<http::Exchange> ex;
  const config::OriginConfig* cfg = nullptr;
  uv_file fd = -1;
  ~OpenJob() {
    if (fd < 0) return;
    uv_fs_t close_req;
    uv_fs_close(nullptr, &close_req, fd, nullptr);
    uv_fs_req_cleanup(&close_req);
  }
};

void respond_error_for(http::Exchange& ex, int err) {
  http::Headers h;
  add_cors(h);
  if (err == UV_ENOENT || err == UV_ENOTDIR || err == UV_EISDIR || err == UV_ENAMETOOLONG) {
    ex.respond_error(404, "not-found", std::move(h));
  } else if (err == UV_EACCES || err == UV_EPERM) {
    ex.respond_error(403, "forbidden", std::move(h));
  } else {
    ex.respond_error(500, "read-error", std::move(h));
  }
}

void respond_file(std::unique_ptr<OpenJob> j, const uv_stat_t& st) {
  auto& ex = *j->ex;
  http::Headers h;
  add_cors(h);
  bool playlist = content_type_for(j->path) == "application/vnd.apple.mpegurl";
  int64_t max_age = (playlist ? j->cfg->playlist_max_age_ms : j->cfg->segment_max_age_ms) / 1000;
  h.set("Content-Type", std::string(content_type_for(j->path)));
  h.set("Surrogate-Key", j->surrogate_key);
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age) + (playlist ? "" : ", immutable"));
  const uint64_t size = st.st_size;
  char etag[64];
  snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)size,
           (unsigned long long)(st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec));
  h.set("ETag", etag);
  const int64_t mtime_s = st.st_mtim.tv_sec;
  h.set("Last-Modified", format_http_date(mtime_s));
  const auto& rq = ex.request();
  if (http::not_modified(rq, etag, mtime_s)) {
    ex.respond(304, std::move(h), std::string_view());
    return;
  }
  h.set("Accept-Ranges", "bytes");
  auto plan = http::plan_range(rq, size, {etag, mtime_s, unix_now()});
  int status = 200;
  uint64_t offset = 0, length = size;
  switch (plan.kind) {
    case http::RangePlan::Kind::Unsatisfiable:
      h.set("Content-Range", http::content_range(plan, size));
      ex.respond_error(416, "range-not-satisfiable", std::move(h));
      return;
    case http::RangePlan::Kind::Partial:
      h.set("Content-Range", http::content_range(plan, size));
      status = 206;
      offset = plan.range.first;
      length = plan.range.length();
      break;
    case http::RangePlan::Kind::Full:
      break;
  }
  if (!ex.start(status, std::move(h), int64_t(length))) return;
  if (rq.is_head() || length == 0) {
    ex.finish();
    return;
  }
  uv_file fd = std::exchange(j->fd, -1);
  VodStream::run(j->ex, fd, offset, length);
}

void on_stat(uv_fs_t* r) {
  std::unique_ptr<OpenJob> j(static_cast<OpenJob*>(r->data));
  int64_t result = r->result;
  uv_stat_t st = r->statbuf;
  uv_fs_req_cleanup(r);
  if (!j->ex->alive()) return;
  if (result < 0) return respond_error_for(*j->ex, int(result));
  if (!S_ISREG(st.st_mode))
    return respond_error_for(*j->ex, S_ISDIR(st.st_mode) ? UV_EISDIR : UV_EIO);
  respond_file(std::move(j), st);
}

void on_open(uv_fs_t* r) {
  std::unique_ptr<OpenJob> j(static_cast<OpenJob*>(r->data));
  int64_t result = r->result;
  uv_fs_req_cleanup(r);
  if (result < 0) {
    if (j->ex->alive()) respond_error_for(*j->ex, int(result));
    return;
  }
  j->fd = uv_file(result);
  if (!j->ex->alive()) return;
  uv_loop_t* loop = j->ex->worker()->loop();
  uv_file fd = j->fd;
  OpenJob* raw = j.release();
  if (uv_fs_fstat(loop, &raw->req, fd, on_stat) != 0) {
    j.reset(raw);
    respond_error_for(*j->ex, UV_EIO);
  }
}

}  // namespace

bool VodHandler::handle(const std::shared_ptr<http::Exchange>& ex) {
  const auto& req = ex->request();
  if (!starts_with(req.path, "/vod/")) return false;
  if (!allow_read_methods(ex)) return true;
  auto rel = url_decode(std::string_view(req.path).substr(5));
  if (!rel || !safe_relative(*rel)) {
    http::Headers h;
    add_cors(h);
    ex->respond_error(400, "bad-path", std::move(h));
    return true;
  }
  auto job = std::make_unique<OpenJob>();
  job->path = cfg_.root + "/" + *rel;
  auto slash = rel->rfind('/');
  job->surrogate_key = slash == std::string::npos ? "vod" : "vod/" + rel->substr(0, slash);
  job->ex = ex;
  job->cfg = &cfg_;
  job->req.data = job.get();
  if (uv_fs_open(ex->worker()->loop(), &job->req, job->path.c_str(), O_RDONLY | O_CLOEXEC, 0,
                 on_open) != 0) {
    ex->respond_error(503, "busy");
    return true;
  }
  job.release();  // owned by on_open
  return true;
}

}  // namespace cdn::origin
