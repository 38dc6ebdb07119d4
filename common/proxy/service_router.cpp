#include "common/proxy/service_router.h"

#include "common/obs/metrics.h"

namespace cdn::proxy {

void ServiceRouter::handle(const std::shared_ptr<http::Exchange>& ex) {
  std::shared_ptr<const ServiceTable> table = table_.load();
  const Service* service = table->find(ex->request().host);
  if (!service) {
    static obs::Counter& misdirected = obs::metrics().counter(
        "cdn_requests_misdirected_total", "Requests whose Host no delivery service takes (421)");
    misdirected.inc();
    ex->respond_error(421, "unknown-host");
    return;
  }
  ex->log.service = service->name;
  ex->log.service_label = service->label;
  ex->log.service_pin = std::move(table);
  service->core->handle(ex);
}

}  // namespace cdn::proxy
