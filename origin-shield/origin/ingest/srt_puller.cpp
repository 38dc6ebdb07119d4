#include "origin-shield/origin/ingest/srt_puller.h"

#include <netdb.h>
#include <srt/srt.h>

#include "common/obs/log.h"
#include "common/util/clock.h"
#include "origin-shield/origin/ingest/srt_read.h"
#include "origin-shield/origin/live_http.h"

namespace cdn::origin::ingest {

namespace {

constexpr int kWaitMs = 100;
constexpr int64_t kRetryMs = 1000;
constexpr int kConnectTimeoutMs = 1500;  // libsrt's default 3 s would slow the retries down

}  // namespace

Result<void> SrtPuller::start() {
  srt_startup();
  started_ = true;
  epoll_ = srt_epoll_create();
  if (epoll_ < 0) return Error{std::string("live srt pull: epoll: ") + srt_getlasterror_str()};
  thread_ = std::thread([this] { run(); });
  return {};
}

void SrtPuller::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& p : pulls_)
    if (p.sock >= 0) lost(p, 0, nullptr);
  if (epoll_ >= 0) srt_epoll_release(epoll_);
  epoll_ = -1;
  if (started_) srt_cleanup();
  started_ = false;
}

void SrtPuller::run() {
  SRT_EPOLL_EVENT events[16];
  while (!stopping_) {
    apply_wanted();
    const int64_t now = mono_ms();
    for (auto& p : pulls_)
      if (p.sock < 0 && now >= p.next_attempt_ms) connect(p, now);
    int n = srt_epoll_uwait(epoll_, events, 16, kWaitMs);
    for (int i = 0; i < n; ++i)
      for (auto& p : pulls_)
        if (p.sock == events[i].fd) on_event(p, events[i].events, mono_ms());
  }
}

void SrtPuller::follow(std::vector<Pull> wanted) {
  std::lock_guard lk(wanted_mu_);
  wanted_ = std::move(wanted);
}

void SrtPuller::apply_wanted() {
  std::optional<std::vector<Pull>> wanted;
  {
    std::lock_guard lk(wanted_mu_);
    wanted.swap(wanted_);
  }
  if (!wanted) return;
  auto same = [](const Pull& a, const Pull& b) {
    return a.in.rendition == b.in.rendition && a.in.source->backup == b.in.source->backup &&
           a.url == b.url;
  };
  auto log = [](const Pull& p, const char* what) {
    obs::log(obs::Level::Info, what,
             {{"channel", p.in.rendition->channel()},
              {"rendition", p.in.rendition->name()},
              {"role", p.in.source->backup ? "backup" : "primary"},
              {"url", p.url.text}});
  };
  std::erase_if(pulls_, [&](Pull& p) {
    for (auto& w : *wanted)
      if (same(p, w)) return false;
    log(p, "live srt pull stopped");
    lost(p, 0, nullptr);
    return true;
  });
  for (auto& w : *wanted) {
    bool running = false;
    for (auto& p : pulls_) running = running || same(p, w);
    if (running) continue;
    log(w, "live srt pull started");
    pulls_.push_back(std::move(w));
  }
}

void SrtPuller::connect(Pull& p, int64_t now) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_DGRAM;
  const std::string port = std::to_string(p.url.address.port);
  if (getaddrinfo(p.url.address.host.c_str(), port.c_str(), &hints, &res) != 0 || !res) {
    p.next_attempt_ms = now + kRetryMs;
    return lost(p, now, "address not resolved");
  }
  p.sock = srt_create_socket();
  const int no = 0;
  srt_setsockflag(p.sock, SRTO_RCVSYN, &no, sizeof no);  // connect and reads do not block
  srt_setsockflag(p.sock, SRTO_CONNTIMEO, &kConnectTimeoutMs, sizeof kConnectTimeoutMs);
  if (p.url.latency_ms) {
    const int latency = int(*p.url.latency_ms);
    srt_setsockflag(p.sock, SRTO_LATENCY, &latency, sizeof latency);
  }
  if (!p.url.streamid.empty())
    srt_setsockflag(p.sock, SRTO_STREAMID, p.url.streamid.data(), int(p.url.streamid.size()));
  if (!p.url.passphrase.empty())
    srt_setsockflag(p.sock, SRTO_PASSPHRASE, p.url.passphrase.data(), int(p.url.passphrase.size()));
  const int events = SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll_, p.sock, &events);
  const int rc = srt_connect(p.sock, res->ai_addr, int(res->ai_addrlen));
  freeaddrinfo(res);
  if (rc == SRT_ERROR) lost(p, now, srt_getlasterror_str());
}

void SrtPuller::on_event(Pull& p, int events, int64_t now) {
  if (!p.connected) {
    if (srt_getsockstate(p.sock) != SRTS_CONNECTED)
      return (events & SRT_EPOLL_ERR)
                 ? lost(p, now, srt_rejectreason_str(srt_getrejectreason(p.sock)))
                 : void();
    p.connected = true;
    p.failing = false;
    const int in = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    srt_epoll_update_usock(epoll_, p.sock, &in);
    obs::log(obs::Level::Info, "live ingest connected",
             {{"channel", p.in.rendition->channel()},
              {"rendition", p.in.rendition->name()},
              {"role", p.in.source->backup ? "backup" : "primary"},
              {"input", "srt-pull"},
              {"url", p.url.text}});
  }
  if (!srt_read_into(p.sock, *p.in.rendition, *p.in.source)) lost(p, now, "connection closed");
}

void SrtPuller::lost(Pull& p, int64_t now, const char* why) {
  if (p.sock >= 0) {
    if (epoll_ >= 0) srt_epoll_remove_usock(epoll_, p.sock);
    srt_close(p.sock);
    p.sock = -1;
  }
  if (p.connected) {
    p.in.rendition->on_source_end(*p.in.source);
    p.in.source = ingest_.new_source(p.in.source->backup, "srt-pull");
  }
  if (!why) return;  // stopping
  if (!p.failing) {
    count_live_error("srt-pull-failed");
    obs::log(obs::Level::Warn, "live srt pull failed, retrying every second",
             {{"channel", p.in.rendition->channel()},
              {"rendition", p.in.rendition->name()},
              {"url", p.url.text},
              {"reason", why}});
  }
  p.failing = true;
  p.connected = false;
  p.next_attempt_ms = now + kRetryMs;
}

}  // namespace cdn::origin::ingest
