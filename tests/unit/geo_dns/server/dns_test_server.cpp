// A test-only DNS server: the fixed zone of fake_steering.h with its deterministic FakeSteering,
// on one worker. Prints "listening <port>" once the UDP and TCP sockets are bound, then serves
// until SIGTERM/SIGINT.
//   geo_dns_test_server [--addr 127.0.0.1] [--port 0] [--udp-max-payload 1232] [--tcp-idle-ms
//   10000]
//                       [--max-tcp 1024] [--hosts N]
// --hosts N adds N extra A records to video.cdn.example, to make answers that need TC.
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "common/net/address.h"
#include "common/net/uv_handle.h"
#include "common/net/worker.h"
#include "geo/dns/dns_server.h"
#include "tests/unit/geo_dns/fake_steering.h"

using namespace cdn;

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1";
  int port = 0, hosts = 0;
  geo::DnsServerOptions opts;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--addr")
      addr = v;
    else if (k == "--port")
      port = std::atoi(v.c_str());
    else if (k == "--udp-max-payload")
      opts.udp_max_payload = static_cast<uint16_t>(std::atoi(v.c_str()));
    else if (k == "--tcp-idle-ms")
      opts.tcp_idle_ms = std::atoll(v.c_str());
    else if (k == "--max-tcp")
      opts.max_tcp_connections = static_cast<size_t>(std::atoll(v.c_str()));
    else if (k == "--hosts")
      hosts = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  auto zone = std::make_shared<const geo::ZoneConfig>(geo::testing::test_zone());
  auto steering = std::make_shared<geo::testing::FakeSteering>();
  geo::testing::fill_test_steering(*steering);
  for (int i = 0; i < hosts; ++i)
    steering->v4["video.cdn.example"].push_back("10.0." + std::to_string(i / 250) + "." +
                                                std::to_string(i % 250 + 1));
  std::shared_ptr<const geo::Steering> steer = steering;
  geo::DnsServer server([&] { return geo::DnsZone{zone, steer}; }, opts);

  auto bind = net::resolve_numeric(addr, static_cast<uint16_t>(port));
  if (!bind) {
    std::fprintf(stderr, "%s\n", bind.error().message.c_str());
    return 2;
  }
  net::Worker worker(0);
  net::UvHandle<uv_signal_t> sigterm, sigint;
  int rc = 0;
  worker.run_here([&](net::Worker& w) {
    for (auto* h : {&sigterm, &sigint}) {
      uv_signal_init(w.loop(), h->get());
      h->mark_initialized();
      h->get()->data = &w;
      uv_signal_start(
          h->get(), [](uv_signal_t* s, int) { static_cast<net::Worker*>(s->data)->stop(); },
          h == &sigterm ? SIGTERM : SIGINT);
    }
    if (auto r = server.listen(w, *bind); !r) {
      std::fprintf(stderr, "listen: %s\n", r.error().message.c_str());
      rc = 1;
      w.stop();
      return;
    }
    std::printf("listening %u\n", server.port());
    std::fflush(stdout);
  });
  server.close(worker);
  sigterm.close();
  sigint.close();
  return rc;
}
