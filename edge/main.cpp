// cdn-edge: the viewer-facing tier. The proxy core plus the edge phases; upstream = the shield
// pool, chosen per key by rendezvous hashing.
#include "common/proxy/proxy_program.h"
#include "edge/edge_phases.h"

int main(int argc, char** argv) {
  // The token parameter name comes from config; "token" is the default and what tests use. The
  // access phase (issue: viewer access) will read it from the loaded config.
  cdn::edge::EdgePhases phases("token");
  return cdn::proxy::run_proxy_program(argc, argv, "cdn-edge", cdn::config::Tier::Edge, &phases);
}
