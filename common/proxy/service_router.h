#pragma once
// The viewer listener's handler: picks the delivery service from Host and hands the request to
// that service's proxy core; a Host no service takes gets 421 and never reaches a cache. The
// table is swapped whole on reload: a request holds the table it started under until it ends.
#include <atomic>
#include <memory>

#include "common/http/server_connection.h"
#include "common/proxy/service_table.h"

namespace cdn::proxy {

class ServiceRouter : public http::RequestHandler {
 public:
  explicit ServiceRouter(std::shared_ptr<const ServiceTable> table) : table_(std::move(table)) {}
  void handle(const std::shared_ptr<http::Exchange>& ex) override;

  std::shared_ptr<const ServiceTable> table() const { return table_.load(); }
  // Returns the table it replaces (its last user frees it).
  std::shared_ptr<const ServiceTable> swap(std::shared_ptr<const ServiceTable> next) {
    return table_.exchange(std::move(next));
  }

 private:
  std::atomic<std::shared_ptr<const ServiceTable>> table_;
};

}  // namespace cdn::proxy
