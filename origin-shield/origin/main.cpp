// cdn-origin: the bundled origin. Serves HLS VOD from a directory under /vod/ and, with a live:
// section, ingests MPEG-TS (HTTP push, UDP) into live HLS under /live/ (see live_service.h).
// `cdn-origin package INPUT.ts --channel NAME` packages a file into the live store as HLS VOD.
#include <cstring>

#include "common/runtime/program.h"
#include "origin-shield/origin/live_config.h"
#include "origin-shield/origin/live_service.h"
#include "origin-shield/origin/origin_handler.h"
#include "origin-shield/origin/package.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "package") == 0) return cdn::origin::package_main(argc - 1, argv + 1);
  cdn::runtime::Program program("cdn-origin", cdn::config::Tier::Origin);
  cdn::origin::LiveConfig live_cfg;
  std::unique_ptr<cdn::origin::LiveService> live;
  std::unique_ptr<cdn::origin::OriginHandler> handler;
  cdn::runtime::Program::Hooks hooks;
  hooks.extra_sections = [&](cdn::config::MapReader& root) { cdn::origin::read_live_section(root, live_cfg); };
  hooks.setup = [&](cdn::runtime::Program& p) -> cdn::Result<cdn::http::RequestHandler*> {
    if (live_cfg.enabled) {
      auto s = cdn::origin::LiveService::create(live_cfg, *p.config().origin);
      if (!s) return s.error();
      live = std::move(s.value());
      if (auto r = live->start(p.worker(0)); !r) return r.error();
      live->set_draining_probe([&p] { return p.draining(); });
      live->add_admin_routes(p.admin());
    }
    handler = std::make_unique<cdn::origin::OriginHandler>(*p.config().origin, live.get());
    return static_cast<cdn::http::RequestHandler*>(handler.get());
  };
  hooks.on_reload = [&](cdn::runtime::Program& p) {
    if (live) live->reload_config(p.config_path());
  };
  hooks.on_shutdown = [&](cdn::runtime::Program&) {
    if (live) live->shutdown();
  };
  return program.main(argc, argv, std::move(hooks));
}
