#include "origin-shield/origin/ingest/srt_listener.h"

#include <arpa/inet.h>
#include <srt/access_control.h>
#include <srt/srt.h>

#include "common/obs/log.h"
#include "origin-shield/origin/ingest/srt_read.h"
#include "origin-shield/origin/ingest/stream_target.h"
#include "origin-shield/origin/live_http.h"
#include "origin-shield/origin/live_rendition.h"

namespace cdn::origin::ingest {

namespace {

constexpr int kWaitMs = 100;  // how soon stop() is noticed
constexpr int kMaxEvents = 64;

std::string peer_name(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (sa && sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa && sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

std::string srt_error(const char* what) {
  return std::string("live srt: ") + what + ": " + srt_getlasterror_str();
}

}  // namespace

Result<void> SrtListener::start() {
  srt_startup();
  started_ = true;
  const auto& hp = *cfg_.listen;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (hp.host.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(hp.port);
    if (inet_pton(AF_INET6, hp.host.c_str(), &a->sin6_addr) != 1)
      return Error{"live srt: " + hp.str() + ": not an IP address"};
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(hp.port);
    if (inet_pton(AF_INET, hp.host == "localhost" ? "127.0.0.1" : hp.host.c_str(), &a->sin_addr) !=
        1)
      return Error{"live srt: " + hp.str() + ": not an IP address"};
    len = sizeof *a;
  }
  listener_ = srt_create_socket();
  if (listener_ == SRT_INVALID_SOCK) return Error{srt_error("socket")};
  const int no = 0, latency = int(cfg_.latency_ms);
  // Accepted sockets inherit these: non-blocking reads, the configured receive latency.
  srt_setsockflag(listener_, SRTO_RCVSYN, &no, sizeof no);
  srt_setsockflag(listener_, SRTO_LATENCY, &latency, sizeof latency);
  if (srt_bind(listener_, reinterpret_cast<sockaddr*>(&ss), int(len)) == SRT_ERROR)
    return Error{srt_error(("bind " + hp.str()).c_str())};
  if (srt_listen_callback(listener_, &SrtListener::on_listen, this) == SRT_ERROR)
    return Error{srt_error("listen callback")};
  if (srt_listen(listener_, 16) == SRT_ERROR) return Error{srt_error("listen")};
  epoll_ = srt_epoll_create();
  const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll_, listener_, &events);
  thread_ = std::thread([this] { run(); });
  obs::log(obs::Level::Info, "live srt listening",
           {{"address", hp.str()}, {"latency_ms", std::to_string(cfg_.latency_ms)}});
  return {};
}

void SrtListener::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto it = conns_.begin(); it != conns_.end(); it = conns_.begin())
    drop(it->first, "stopped");
  if (epoll_ >= 0) srt_epoll_release(epoll_);
  epoll_ = -1;
  if (listener_ != SRT_INVALID_SOCK && listener_ >= 0) srt_close(listener_);
  listener_ = -1;
  if (started_) srt_cleanup();
  started_ = false;
}

int SrtListener::on_listen(void* self, int sock, int, const sockaddr* peer, const char* streamid) {
  return static_cast<SrtListener*>(self)->check(sock, peer, streamid);
}

int SrtListener::check(int sock, const sockaddr* peer, const char* streamid) {
  auto target = parse_stream_target(streamid ? streamid : "");
  if (!target) {
    std::string_view sid(streamid ? streamid : "");
    obs::log(obs::Level::Warn, "live srt refused: streamid is not <channel>/<rendition>?key=...",
             {{"streamid", std::string(sid.substr(0, std::min(sid.find('?'), size_t(64))))},
              {"client", peer_name(peer)}});
    count_live_error("bad-stream-id");
    srt_setrejectreason(sock, SRT_REJX_BAD_REQUEST);
    return -1;
  }
  auto a = ingest_.admit(target->channel, target->rendition, target->key, "srt", peer_name(peer));
  if (!a.rendition) {
    count_live_error(a.reason);
    srt_setrejectreason(sock, a.status == 403 ? SRT_REJX_FORBIDDEN : SRT_REJX_NOTFOUND);
    return -1;
  }
  if (cfg_.encrypt)
    srt_setsockflag(sock, SRTO_PASSPHRASE, target->key.data(), int(target->key.size()));
  return 0;
}

void SrtListener::run() {
  SRT_EPOLL_EVENT events[kMaxEvents];
  while (!stopping_) {
    run_cuts();
    int n = srt_epoll_uwait(epoll_, events, kMaxEvents, kWaitMs);
    for (int i = 0; i < n; ++i) {
      if (events[i].fd == listener_)
        accept_pending();
      else
        read_all(events[i].fd);
    }
  }
}

void SrtListener::accept_pending() {
  // One per readiness event (the epoll is level-triggered): a second srt_accept on an empty
  // backlog logs an error line in libsrt.
  {
    sockaddr_storage ss{};
    int len = sizeof ss;
    int s = srt_accept(listener_, reinterpret_cast<sockaddr*>(&ss), &len);
    if (s == SRT_INVALID_SOCK) return;
    char sid[513] = {};
    int sid_len = sizeof sid - 1;
    srt_getsockflag(s, SRTO_STREAMID, sid, &sid_len);
    std::string peer = peer_name(reinterpret_cast<sockaddr*>(&ss));
    // Checked again: the callback's answer does not travel with the socket.
    auto target = parse_stream_target(std::string_view(sid, size_t(std::max(sid_len, 0))));
    auto cut = [this](uint64_t id, const char* reason) { this->cut(id, reason); };
    auto admitted = target ? ingest_.admit_publisher(*target, "srt", peer, std::move(cut))
                           : Result<IngestAdmission>(Error{"bad-stream-id"});
    if (!admitted) {
      count_live_error(admitted.error().message);
      srt_close(s);
      return;
    }
    const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    srt_epoll_add_usock(epoll_, s, &events);
    auto& in = admitted.value();
    obs::log(obs::Level::Info, "live ingest connected",
             {{"channel", in.rendition->channel()},
              {"rendition", in.rendition->name()},
              {"role", target->backup ? "backup" : "primary"},
              {"input", "srt"},
              {"client", peer}});
    conns_[s] = Connection{std::move(in), std::move(peer)};
  }
}

void SrtListener::read_all(int sock) {
  auto it = conns_.find(sock);
  if (it == conns_.end()) return;
  if (!srt_read_into(sock, *it->second.in.rendition, *it->second.in.source)) drop(sock, "closed");
}

void SrtListener::cut(uint64_t source_id, const char* reason) {
  std::lock_guard lk(cuts_mu_);
  cuts_.emplace_back(source_id, reason);
}

void SrtListener::run_cuts() {
  std::vector<std::pair<uint64_t, const char*>> cuts;
  {
    std::lock_guard lk(cuts_mu_);
    cuts.swap(cuts_);
  }
  for (auto& [id, reason] : cuts) {
    for (auto& [sock, c] : conns_) {
      if (c.in.source->id != id) continue;
      count_live_error(reason);
      drop(sock, reason);
      break;
    }
  }
}

void SrtListener::drop(int sock, const char* why) {
  auto it = conns_.find(sock);
  if (it == conns_.end()) return;
  it->second.in.rendition->on_source_end(*it->second.in.source);
  obs::log(obs::Level::Info, "live ingest closed",
           {{"channel", it->second.in.rendition->channel()},
            {"rendition", it->second.in.rendition->name()},
            {"input", "srt"},
            {"reason", why}});
  if (epoll_ >= 0) srt_epoll_remove_usock(epoll_, sock);
  srt_close(sock);
  conns_.erase(it);
}

}  // namespace cdn::origin::ingest
