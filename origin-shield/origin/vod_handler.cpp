#include "origin-shield/origin/vod_handler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common/util/http_date.h"
#include "common/http/conditional.h"
#include "common/http/range.h"
#include "common/net/worker.h"
#include "common/util/strings.h"

namespace cdn::origin {

std::string_view content_type_for(std::string_view p) {
  auto ends = [&](std::string_view s) { return p.size() >= s.size() && p.substr(p.size() - s.size()) == s; };
  if (ends(".m3u8")) return "application/vnd.apple.mpegurl";
  if (ends(".ts")) return "video/mp2t";
  if (ends(".m4s")) return "video/iso.segment";
  if (ends(".mp4")) return "video/mp4";
  if (ends(".aac")) return "audio/aac";
  if (ends(".vtt")) return "text/vtt";
  if (ends(".key")) return "application/octet-stream";
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

struct ReadJob {
  uv_work_t req;
  std::string path;
  std::shared_ptr<http::Exchange> ex;
  const config::OriginConfig* cfg;
  int err = 0;
  struct stat st {};
  std::string data;
};

void respond_file(ReadJob& j) {
  auto& ex = *j.ex;
  http::Headers h;
  add_cors(h);
  if (j.err == ENOENT || j.err == ENOTDIR || j.err == EISDIR) {
    ex.respond_error(404, "not-found", std::move(h));
    return;
  }
  if (j.err) {
    ex.respond_error(500, "read-error", std::move(h));
    return;
  }
  bool playlist = content_type_for(j.path) == "application/vnd.apple.mpegurl";
  int64_t max_age = (playlist ? j.cfg->playlist_max_age_ms : j.cfg->segment_max_age_ms) / 1000;
  h.set("Content-Type", std::string(content_type_for(j.path)));
  h.set("Cache-Control", "public, max-age=" + std::to_string(max_age) + (playlist ? "" : ", immutable"));
  char etag[64];
  snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)j.st.st_size,
           (unsigned long long)(j.st.st_mtim.tv_sec * 1000000000LL + j.st.st_mtim.tv_nsec));
  h.set("ETag", etag);
  std::string lm = format_http_date(j.st.st_mtim.tv_sec);
  h.set("Last-Modified", lm);
  const auto& rq = ex.request();
  if (http::not_modified(rq, etag, j.st.st_mtim.tv_sec)) {
    ex.respond(304, std::move(h), std::string_view());
    return;
  }
  h.set("Accept-Ranges", "bytes");
  if (auto* range = rq.headers.get("range")) {
    http::ByteRange r;
    switch (http::parse_range(*range, j.data.size(), r)) {
      case http::RangeResult::Satisfiable:
        h.set("Content-Range", "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
                                   std::to_string(j.data.size()));
        ex.respond(206, std::move(h), std::string_view(j.data).substr(r.first, r.last - r.first + 1));
        return;
      case http::RangeResult::Unsatisfiable:
        h.set("Content-Range", "bytes */" + std::to_string(j.data.size()));
        ex.respond_error(416, "range-not-satisfiable", std::move(h));
        return;
      case http::RangeResult::None: break;
    }
  }
  ex.respond(200, std::move(h), j.data);
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
  auto* job = new ReadJob();
  job->path = cfg_.root + "/" + *rel;
  job->ex = ex;
  job->cfg = &cfg_;
  job->req.data = job;
  int rc = uv_queue_work(
      ex->worker()->loop(), &job->req,
      [](uv_work_t* w) {
        auto* j = static_cast<ReadJob*>(w->data);
        int fd = ::open(j->path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          j->err = errno;
          return;
        }
        if (fstat(fd, &j->st) != 0 || !S_ISREG(j->st.st_mode)) {
          j->err = S_ISDIR(j->st.st_mode) ? EISDIR : EIO;
          ::close(fd);
          return;
        }
        j->data.resize(size_t(j->st.st_size));
        size_t off = 0;
        while (off < j->data.size()) {
          ssize_t n = ::pread(fd, j->data.data() + off, j->data.size() - off, off_t(off));
          if (n <= 0) {
            j->err = n < 0 ? errno : EIO;
            break;
          }
          off += size_t(n);
        }
        ::close(fd);
      },
      [](uv_work_t* w, int) {
        std::unique_ptr<ReadJob> j(static_cast<ReadJob*>(w->data));
        if (j->ex->alive()) respond_file(*j);
      });
  if (rc != 0) {
    delete job;
    ex->respond_error(503, "busy");
  }
  return true;
}

}  // namespace cdn::origin
