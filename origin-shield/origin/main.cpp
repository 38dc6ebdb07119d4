// cdn-origin: the bundled origin. Serves HLS VOD from a directory under /vod/; the live
// segmenter plugs in beside it.
#include "common/runtime/program.h"
#include "origin-shield/origin/origin_handler.h"

int main(int argc, char** argv) {
  cdn::runtime::Program program("cdn-origin", cdn::config::Tier::Origin);
  std::unique_ptr<cdn::origin::OriginHandler> handler;
  cdn::runtime::Program::Hooks hooks;
  hooks.setup = [&](cdn::runtime::Program& p) -> cdn::Result<cdn::http::RequestHandler*> {
    handler = std::make_unique<cdn::origin::OriginHandler>(*p.config().origin);
    return static_cast<cdn::http::RequestHandler*>(handler.get());
  };
  return program.main(argc, argv, std::move(hooks));
}
