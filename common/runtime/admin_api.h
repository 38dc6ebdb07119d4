#pragma once
// The admin listener of every server. Each route says who may use it when it is added, so a new
// route cannot forget: public reads (/healthz, /metrics: operational state, for anyone who can
// reach the listener, which binds to loopback or a management network), private reads (viewer
// data, e.g. /admin/sessions) and writes (state changes) that need "Authorization: Bearer <token>".
// A path may have a read and a write route (GET lists, POST adds); a path ending in "/*" matches
// every path under it (the route reads the rest itself, e.g. /admin/channels/<name>).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http/server_connection.h"

namespace cdn::runtime {

class AdminApi : public http::RequestHandler {
 public:
  using Route = std::function<void(const std::shared_ptr<http::Exchange>&)>;
  explicit AdminApi(std::string token) : token_(std::move(token)) {}
  // GET/HEAD route revealing nothing about viewers and changing nothing: open.
  void add_public_read(const std::string& path, Route r) {
    add(path, Access::PublicRead, std::move(r));
  }
  // GET/HEAD route that reveals viewer data: needs the admin token.
  void add_private_read(const std::string& path, Route r) {
    add(path, Access::PrivateRead, std::move(r));
  }
  // POST/DELETE route that changes state: needs the admin token.
  void add_write(const std::string& path, Route r) { add(path, Access::Write, std::move(r)); }
  // A write route that tokens besides the operator's may use too (a delivery service's own
  // admin_token for its purges): `accepts` says whether an Authorization value carries one; the
  // route then limits itself to that token's scope (is_operator() tells the two apart).
  using TokenCheck = std::function<bool(std::string_view authorization)>;
  void add_scoped_write(const std::string& path, Route r, TokenCheck accepts) {
    add(path, Access::Write, std::move(r), std::move(accepts));
  }
  // The same for a private read (a service's admin_token listing its own viewers' sessions).
  void add_scoped_private_read(const std::string& path, Route r, TokenCheck accepts) {
    add(path, Access::PrivateRead, std::move(r), std::move(accepts));
  }
  bool is_operator(const http::Exchange& ex) const;
  // Answers an admin request with an error and counts it in cdn_admin_rejections_total{reason}
  // (a route refusing a token outside its scope uses it too).
  static void refuse(const std::shared_ptr<http::Exchange>& ex, int status,
                     const std::string& reason, http::Headers h = {});
  void handle(const std::shared_ptr<http::Exchange>& ex) override;

 private:
  enum class Access { PublicRead, PrivateRead, Write };
  struct Entry {
    Access access;
    Route route;
    TokenCheck scoped;  // empty: the operator's token only
  };
  void add(const std::string& path, Access access, Route r, TokenCheck scoped = {}) {
    auto& entries = routes_[path];
    std::erase_if(entries, [&](const Entry& e) {
      return (e.access == Access::Write) == (access == Access::Write);
    });
    entries.push_back(Entry{access, std::move(r), std::move(scoped)});
  }
  // The routes of a path: exact, else the nearest "<parent>/*"; nullptr if none.
  const std::vector<Entry>* lookup(const std::string& path) const;
  // Refuses (and counts) a request without the admin token; true when it may go on.
  bool authorized(const std::shared_ptr<http::Exchange>& ex) const;

  std::string token_;
  std::map<std::string, std::vector<Entry>> routes_;
};

}  // namespace cdn::runtime
