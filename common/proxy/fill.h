#pragma once
// A fill is one upstream fetch (or disk read) of one key, shared by every request that wants the
// key while it runs, on any worker thread. The producer appends blocks as they arrive; each
// waiter is woken on its own loop and takes what is new as fast as its client drains
// (read-while-writer). A fill that fails says so to every waiter, so no truncated body is ever
// passed off as complete.
//
// A fill whose body will be stored keeps every block (late joiners and the cache share them) and
// reads its upstream at upstream speed. A fill that will not be stored (no-store, too large)
// switches to paced mode: it drops blocks every waiter has taken and tells its producer to pause
// once the slowest waiter is a window behind, and to resume when it caught up.
//
// Ranges of a paced fill (the rule that decides when concurrent ranges share one fetch): a waiter
// may say at join time which body byte it wants first (a single `bytes=N-` range). It joins a
// paced fill only if that byte is still held or at most one window beyond the oldest byte held
// (the fill reaches it without outrunning anyone); blocks before it are skipped, and it holds
// none of them back. A waiter that wants bytes the fill already dropped, or bytes too far ahead
// (the fill moves at its slowest waiter's pace), or that arrives while the fill holds its upstream
// for a slow waiter, is told "fill-not-joinable" before any response started, and fetches on its
// own (ProxyCore: only its own range, with a Range header). The price of sharing: a joined range
// moves at the pace of the fill's slowest waiter, like every other waiter of a paced fill.
//
// A fill that stores its body keeps every block, so a range always could join it; but a range
// whose first byte is more than `range reach` beyond what the fill has received (a viewer seeking
// to the end of a cold multi-GB file) would wait for everything before it. Such a waiter is told
// "fill-not-joinable" too and fetches its own range, while the fill goes on storing the object.
#include <deque>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/cache/key.h"
#include "common/cache/object.h"
#include "common/http/message.h"
#include "common/net/worker.h"
#include "common/util/bytes.h"

namespace cdn::proxy {

class Fill {
 public:
  enum class State { Pending, Streaming, Done, Failed };

  struct Waiter {
    net::Worker* worker;
    std::function<void()> wake;
    std::atomic<bool> scheduled{false};
    std::atomic<bool> gone{false};
    bool joined_after_end = false;  // such a waiter is answered from the stored object, as a HIT
    // Guarded by the fill:
    uint64_t first = 0;         // the first body byte it wants (paced 200 fills of known length)
    bool checked = false;       // its joinability has been decided (once the head is known)
    bool not_joinable = false;  // wants bytes a paced fill dropped or will not reach soon
    size_t next = 0;            // index of the next block to take
    uint64_t next_offset = 0;   // body offset of that block
    size_t next_interim = 0;    // index of the next interim response to pass on
  };

  // An interim (1xx) response the upstream sent before the head.
  struct Interim {
    int status = 0;
    http::Headers headers;
  };

  // What a waiter sees when woken.
  struct View {
    State state = State::Pending;
    int status = 0;
    const http::Headers* headers = nullptr;  // valid while the fill lives (set once)
    int64_t content_length = -1;
    std::string cache_status;
    cache::ObjectRef object;  // Done with a whole object (disk hit, revalidated, stale fallback)
    std::vector<Bytes> new_chunks;
    uint64_t offset = 0;  // body offset of new_chunks[0] (a waiter may skip bytes before its first)
    bool more = false;  // blocks remain after new_chunks (the read was limited)
    std::string error;
    std::vector<Interim> interim;  // interim responses not passed on yet
  };

  explicit Fill(cache::CacheKey key) : key_(std::move(key)) {}
  const cache::CacheKey& key() const { return key_; }
  // A purge that arrives mid-fill: the fill still answers its waiters but must not be stored.
  void mark_purged() {
    std::lock_guard lk(purge_mu_);
    purged_ = true;
  }
  bool purged() const { return purged_; }
  // Runs `insert` (a cache insert of this fill's object) unless the fill was purged, atomically
  // with mark_purged(): a purge either stops the insert or comes after it, and then erases what
  // it inserted (ProxyCore::purge marks fills before it erases the caches).
  template <class Insert>
  bool insert_unless_purged(Insert&& insert) {
    std::lock_guard lk(purge_mu_);
    if (purged_) return false;
    insert();
    return true;
  }

  // Producer side (the leader's loop).
  void start_streaming(int status, http::Headers headers, int64_t content_length, std::string cache_status);
  // Before the head: an interim response (103 Early Hints) every waiter passes on to its client
  // (RFC 9110 §15.2), those that join later too; never stored. At most kMaxInterim are kept.
  void add_interim(int status, http::Headers headers);
  static constexpr size_t kMaxInterim = 8;
  // Paced mode, before the first append or mid-stream (a body that outgrew the store limit: the
  // blocks held so far are dropped as waiters take them): `resume` is posted to `producer` when
  // the producer was told to pause and the slowest waiter caught up, or when the last waiter left.
  void pace(net::Worker* producer, size_t window, std::function<void()> resume);
  // Before the head arrives: how far beyond the received bytes a range may start and still join
  // a fill that stores its body (0: any distance).
  void set_range_reach(uint64_t bytes) {
    std::lock_guard lk(mu_);
    range_reach_ = bytes;
  }
  // A fill made for one request's own range: its only waiter is never turned away, whatever the
  // upstream answers (a 200 with the whole body is skipped through to the range).
  void set_single_request() {
    std::lock_guard lk(mu_);
    single_request_ = true;
  }
  // False in paced mode when the producer should stop reading until `resume`.
  bool append(const Bytes& chunk);
  // Paced mode: every waiter left; nobody needs the rest of the body.
  bool abandoned() const;
  // End of a streamed body. `stored` (optional) is the cached object, served whole to waiters
  // that join after the end.
  void finish(cache::ObjectRef stored = nullptr);
  void finish_with_object(cache::ObjectRef obj, std::string cache_status);
  void fail(std::string error);
  // The stored object a finished fill hands to requests that join it after its end (nullptr
  // before the end, or when nothing was stored).
  // The variant this fill's response is (vary.h); empty when the response has no Vary. Set by
  // the producer before the head, read by waiters deciding whether the response is theirs.
  void set_variant_key(std::string k) {
    std::lock_guard lk(mu_);
    variant_key_ = std::move(k);
  }
  std::string variant_key() const {
    std::lock_guard lk(mu_);
    return variant_key_;
  }
  cache::ObjectRef late_object() const {
    std::lock_guard lk(mu_);
    return late_object_;
  }

  // Consumer side (any loop).
  // `first`: the first body byte this waiter needs (0: the whole body); see the rule above.
  std::shared_ptr<Waiter> add_waiter(net::Worker* w, std::function<void()> wake,
                                     uint64_t first = 0);
  void remove_waiter(const std::shared_ptr<Waiter>& w);
  // Copies out state and the waiter's next blocks, about `max_bytes` of them (at least one when
  // there is one), and advances the waiter.
  void read(Waiter& w, View& out, size_t max_bytes = SIZE_MAX);
  size_t waiter_count() const;
  // Whether what this fill fetches may be tagged with surrogate key `key`: true until its head
  // has arrived (nobody knows yet), then by its Surrogate-Key / Cache-Tag fields.
  bool may_carry_surrogate_key(std::string_view key) const;
  // Blocks held for waiters (paced mode: only those some waiter has not taken yet).
  size_t held_blocks() const;

 private:
  void wake_all();
  // Paced mode, under mu_: drops blocks every waiter has passed; true if the producer should resume.
  bool trim_locked();
  // Under mu_: the first byte `w` needs; blocks before it are skipped only in a paced 200 fill
  // of known length (anywhere else the waiter may answer with the whole body).
  uint64_t first_needed_locked(const Waiter& w) const;
  // Under mu_, once the head is known: marks a waiter this paced fill cannot serve. `arriving`:
  // it joins a fill already under way, which it must not join while the fill holds its upstream
  // for a slow waiter (it would be held too); a waiter that joined before the head (the fill's
  // leader among them) is never turned away for that.
  void check_joinable_locked(Waiter& w, bool arriving);

  cache::CacheKey key_;
  std::mutex purge_mu_;  // orders mark_purged() against insert_unless_purged()
  std::atomic<bool> purged_{false};
  mutable std::mutex mu_;
  State state_ = State::Pending;
  int status_ = 0;
  http::Headers headers_;
  int64_t content_length_ = -1;
  std::string cache_status_;
  cache::ObjectRef object_;
  cache::ObjectRef late_object_;
  std::string variant_key_;
  std::vector<Interim> interim_;
  std::deque<Bytes> chunks_;  // chunks_[i] is block number base_ + i
  size_t base_ = 0;
  uint64_t base_offset_ = 0;  // body offset of chunks_.front() (bytes before it were dropped)
  std::string error_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
  // Paced mode.
  bool paced_ = false;
  bool producer_paused_ = false;
  size_t window_ = 0;
  size_t held_bytes_ = 0;  // bytes in chunks_
  uint64_t range_reach_ = 0;  // stored fills: see set_range_reach
  bool single_request_ = false;
  net::Worker* producer_ = nullptr;
  std::function<void()> resume_;
};

// Key → the fill running for it, across all worker threads.
class InflightTable {
 public:
  // The running fill for key, or a new one (created = true: the caller must run it).
  std::pair<std::shared_ptr<Fill>, bool> join_or_create(const cache::CacheKey& key);
  // A new fill for key that later requests join instead of the running one (which goes on for
  // its own waiters): the caller must run it.
  std::shared_ptr<Fill> replace(const cache::CacheKey& key);
  void remove(const cache::CacheKey& key, const Fill* fill);
  // Marks fills for this key text (or every key under the prefix) as purged and forgets them:
  // their current waiters are still answered, nothing they fetched is stored.
  void purge(std::string_view key_text, bool prefix);
  // The same for every fill that may carry surrogate key `key` (Fill::may_carry_surrogate_key):
  // a purge by key must also stop fills whose keys are not known yet from storing what may be
  // the purged version.
  void purge_tagged(std::string_view key);
  size_t size() const;

 private:
  static constexpr size_t kShards = 32;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<Fill>> map;
  };
  Shard shards_[kShards];
};

}  // namespace cdn::proxy
