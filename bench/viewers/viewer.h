#pragma once
// One simulated HLS player: master playlist with its own token -> a rendition -> the media
// playlist, reloaded as the tracker says -> each new segment on the same keep-alive connection,
// into its playback buffer. Requests go one at a time, segments before a reload, so a blocking
// reload never holds up a segment the player already knows about.
#include <uv.h>

#include <deque>
#include <memory>
#include <random>
#include <string>

#include "bench/viewers/connection.h"
#include "bench/viewers/options.h"
#include "bench/viewers/playback_buffer.h"
#include "bench/viewers/playlist_tracker.h"
#include "bench/viewers/tally.h"
#include "common/net/uv_handle.h"

namespace cdn::viewers {

// What a player needs from its process.
class ViewerHost {
 public:
  virtual ~ViewerHost() = default;
  virtual uv_loop_t* loop() = 0;
  virtual const Endpoint* endpoint() = 0;
  virtual const Options& options() = 0;
  virtual double now() = 0;  // seconds since the run started
  virtual std::mt19937_64& rng() = 0;
  // Counts into this second's tally and the run's.
  virtual void count(const std::function<void(Tally&)>& f) = 0;
  // A signed token for viewer `id`'s `session`-th join, or empty without a key.
  virtual std::string token_for(uint32_t id, uint32_t session) = 0;
};

class Viewer {
 public:
  Viewer(ViewerHost& host, uint32_t id);
  void join();
  // Leaves (churn or the end of the run); accounts what it played.
  void leave();
  bool active() const { return active_; }
  bool playing() const { return active_ && buffer_.started(); }
  // Adds played/stalled seconds and stalls since the last call to the tally (once a second).
  void account();

 private:
  enum class Want { Master, Playlist, Segment };
  void pump();
  void request(Want what, std::string target);
  void on_master(Response&& r);
  void on_playlist(Response&& r, bool counted);  // counted: already counted as the master
  void on_segment(Response&& r, double started);
  void on_failure(Want what, Failure f, const Response& r);
  void schedule(uv_timer_t* timer, double seconds, void (*fn)(uv_timer_t*));
  std::string with_token(std::string target) const;

  ViewerHost& host_;
  uint32_t id_;
  uint32_t session_ = 0;
  bool active_ = false;
  std::unique_ptr<Connection> conn_;
  SessionPtr tls_session_;                  // kept between sessions: a returning viewer resumes TLS
  net::UvHandle<uv_timer_t> reload_timer_;  // the next playlist reload
  net::UvHandle<uv_timer_t> retry_timer_;   // a failed request's next try
  net::UvHandle<uv_timer_t> life_timer_;    // join and leave under churn
  std::string token_;
  std::string media_target_;
  PlaylistTracker tracker_;
  PlaybackBuffer buffer_;
  std::deque<NewSegment> queue_;
  bool reload_due_ = false;
  bool master_done_ = false;
  int segment_tries_ = 0;
  double join_time_ = 0;
  double accounted_played_ = 0, accounted_stalled_ = 0;
  uint64_t accounted_stalls_ = 0;
  uint64_t accounted_connects_ = 0, accounted_resumed_ = 0;
};

}  // namespace cdn::viewers
