#include "common/proxy/service_table.h"

namespace cdn::proxy {

ServiceTable::ServiceTable(std::vector<std::unique_ptr<Service>> services,
                           std::string_view fallback)
    : services_(std::move(services)) {
  for (const auto& s : services_) {
    for (const auto& h : s->hosts) {
      if (h.size() > 2 && h[0] == '*' && h[1] == '.')
        wildcard_.emplace(h.substr(1), s.get());
      else
        exact_.emplace(h, s.get());
    }
  }
  fallback_ = by_name(fallback);
}

const Service* ServiceTable::find(std::string_view host) const {
  if (auto it = exact_.find(host); it != exact_.end()) return it->second;
  if (!wildcard_.empty()) {
    // Longest suffix first: "a.b.example.com" tries ".b.example.com", then ".example.com", ...
    for (size_t dot = host.find('.'); dot != std::string_view::npos;
         dot = host.find('.', dot + 1)) {
      if (dot == 0) continue;  // "*.x" needs a label before the suffix
      if (auto it = wildcard_.find(host.substr(dot)); it != wildcard_.end()) return it->second;
    }
  }
  return fallback_;
}

const Service* ServiceTable::by_name(std::string_view name) const {
  if (name.empty()) return nullptr;
  for (const auto& s : services_)
    if (s->name == name) return s.get();
  return nullptr;
}

}  // namespace cdn::proxy
