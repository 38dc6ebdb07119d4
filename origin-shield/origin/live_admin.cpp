#include "origin-shield/origin/live_admin.h"

#include <memory>
#include <optional>
#include <string>

#include "common/auth/json.h"
#include "common/obs/metrics.h"
#include "common/runtime/admin_api.h"
#include "common/util/strings.h"
#include "origin-shield/origin/live_channel_overlay.h"
#include "origin-shield/origin/live_service.h"

namespace cdn::origin {

namespace {

constexpr size_t kMaxBody = 64 * 1024;

void answer(const std::shared_ptr<http::Exchange>& ex, const AdminOutcome& o) {
  if (!ex->alive()) return;
  if (o.status >= 400) {
    obs::metrics()
        .counter("cdn_live_admin_errors_total", "Live admin requests refused, by reason",
                 {{"reason", o.reason}})
        .inc();
    ex->respond_error(o.status, o.reason);
    return;
  }
  ex->respond(o.status, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
              o.body);
}

// Runs `work` on the service's job thread and answers on the exchange's loop.
void run(LiveService& s, const std::shared_ptr<http::Exchange>& ex,
         std::function<AdminOutcome()> work) {
  net::Worker* loop = ex->worker();
  s.run_job([ex, loop, work = std::move(work)] {
    AdminOutcome o = work();
    loop->post([ex, o = std::move(o)] { answer(ex, o); });
  });
}

// Reads the request body (bounded), then calls `done` with it on the exchange's loop.
// (`done` gets the exchange as an argument: the handlers are stored in it, so they hold it weakly.)
using BodyDone = std::function<void(const std::shared_ptr<http::Exchange>&, std::string)>;
void with_body(const std::shared_ptr<http::Exchange>& ex, BodyDone done) {
  auto body = std::make_shared<std::string>();
  auto too_big = std::make_shared<bool>(false);
  std::weak_ptr<http::Exchange> wex = ex;
  ex->set_body_handler(
      [body, too_big](const char* d, size_t n) {
        if (body->size() + n > kMaxBody)
          *too_big = true;
        else
          body->append(d, n);
      },
      [wex, body, too_big, done = std::move(done)](bool ok) {
        auto e = wex.lock();
        if (!e || !ok) return;
        if (*too_big) return answer(e, AdminOutcome::error(413, "body-too-large"));
        done(e, std::move(*body));
      });
}

std::optional<auth::json::Value> parse_json(const std::shared_ptr<http::Exchange>& ex,
                                            const std::string& body) {
  auto v = auth::json::parse(body, {kMaxBody, 8});
  if (!v) {
    answer(ex, AdminOutcome::error(400, "bad-json"));
    return std::nullopt;
  }
  return std::move(v.value());
}

void add_channel(LiveService& s, const std::shared_ptr<http::Exchange>& ex,
                 const std::string& body) {
  auto doc = parse_json(ex, body);
  if (!doc) return;
  auto ch = channel_from_json(*doc);
  if (!ch) return answer(ex, AdminOutcome::error(400, ch.error().message));
  const bool generate = ch->stream_key.empty() && !doc->find("stream_key");
  if (generate) ch->stream_key = generate_stream_key();
  run(s, ex, [&s, ch = std::move(ch.value()), generate]() mutable {
    return s.control().add(std::move(ch), generate);
  });
}

void rotate_key(LiveService& s, const std::shared_ptr<http::Exchange>& ex, const std::string& name,
                const std::string& body) {
  std::optional<std::string> key;
  if (!trim(body).empty()) {
    auto doc = parse_json(ex, body);
    if (!doc) return;
    const auth::json::Object* o = doc->as_object();
    const auth::json::Value* k = doc->find("stream_key");
    if (!o || o->size() != (k ? 1u : 0u))
      return answer(ex, AdminOutcome::error(400, "unknown-field"));
    if (k && !k->as_string()) return answer(ex, AdminOutcome::error(400, "bad-stream-key"));
    if (k) key = *k->as_string();
  }
  run(s, ex, [&s, name, key] { return s.control().rotate_key(name, key); });
}

// /admin/channels/<name> and /admin/channels/<name>/rotate-key
void channel_route(LiveService& s, const std::shared_ptr<http::Exchange>& ex) {
  const auto& req = ex->request();
  auto parts =
      split(std::string_view(req.path).substr(std::string_view("/admin/channels/").size()), '/');
  const std::string name(parts.empty() ? std::string_view() : parts[0]);
  if (parts.size() == 1 && req.method == "DELETE")
    return run(s, ex, [&s, name] { return s.control().remove(name); });
  if (parts.size() == 2 && parts[1] == "rotate-key" && req.method == "POST")
    return with_body(ex, [&s, name](const std::shared_ptr<http::Exchange>& e, std::string body) {
      rotate_key(s, e, name, body);
    });
  if (parts.size() == 1 || (parts.size() == 2 && parts[1] == "rotate-key"))
    return answer(ex, AdminOutcome::error(405, "method-not-allowed"));
  answer(ex, AdminOutcome::error(404, "no-such-admin-route"));
}

}  // namespace

void add_live_admin_routes(runtime::AdminApi& admin, LiveService& s) {
  admin.add_private_read("/admin/channels", [&s](const std::shared_ptr<http::Exchange>& ex) {
    run(s, ex, [&s] { return s.control().list(); });
  });
  admin.add_write("/admin/channels", [&s](const std::shared_ptr<http::Exchange>& ex) {
    if (ex->request().method != "POST")
      return answer(ex, AdminOutcome::error(405, "method-not-allowed"));
    with_body(ex, [&s](const std::shared_ptr<http::Exchange>& e, std::string body) {
      add_channel(s, e, body);
    });
  });
  admin.add_write("/admin/package", [&s](const std::shared_ptr<http::Exchange>& ex) {
    if (ex->request().method != "POST") return answer(ex, AdminOutcome::error(405, "method-not-allowed"));
    answer(ex, s.packager().start(ex->request().query));
  });
  admin.add_private_read("/admin/package", [&s](const std::shared_ptr<http::Exchange>& ex) {
    answer(ex, s.packager().list());
  });
  admin.add_write("/admin/channels/*",
                  [&s](const std::shared_ptr<http::Exchange>& ex) { channel_route(s, ex); });
}

}  // namespace cdn::origin
