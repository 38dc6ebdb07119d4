#pragma once
// The edge's own phases: the viewer token never reaches the cache key or the shield.
#include <string>

#include "common/proxy/phases.h"

namespace cdn::edge {

class EdgePhases : public proxy::Phases {
 public:
  explicit EdgePhases(std::string token_param) : token_param_(std::move(token_param)) {}
  std::string upstream_query(const http::Request& req) override;

 private:
  std::string token_param_;
};

}  // namespace cdn::edge
