#pragma once
// A fill is one upstream fetch (or disk read) of one key, shared by every request that wants the
// key while it runs, on any worker thread. The producer appends blocks as they arrive; each
// waiter is woken on its own loop and sends what is new (read-while-writer). A fill that fails
// says so to every waiter, so no truncated body is ever passed off as complete.
#include <atomic>
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
    std::string error;
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
  void append(const Bytes& chunk);
  // End of a streamed body. `stored` (optional) is the cached object, served whole to waiters
  // that join after the end.
  void finish(cache::ObjectRef stored = nullptr);
  void finish_with_object(cache::ObjectRef obj, std::string cache_status);
  void fail(std::string error);

  // Consumer side (any loop).
  std::shared_ptr<Waiter> add_waiter(net::Worker* w, std::function<void()> wake);
  void remove_waiter(const std::shared_ptr<Waiter>& w);
  // Copies out state and the chunks from index `from` on; advances `from`.
  void read(const Waiter& w, size_t& from, View& out) const;
  size_t waiter_count() const;

 private:
  void wake_all();

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
  std::vector<Bytes> chunks_;
  std::string error_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
};

// Key → the fill running for it, across all worker threads.
class InflightTable {
 public:
  // The running fill for key, or a new one (created = true: the caller must run it).
  std::pair<std::shared_ptr<Fill>, bool> join_or_create(const cache::CacheKey& key);
  void remove(const cache::CacheKey& key, const Fill* fill);
  // Marks fills for this key text (or every key under the prefix) as purged and forgets them:
  // their current waiters are still answered, nothing they fetched is stored.
  void purge(std::string_view key_text, bool prefix);
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
