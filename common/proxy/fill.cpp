#include "common/proxy/fill.h"

#include <algorithm>

#include "common/cache/surrogate_keys.h"

namespace cdn::proxy {

void Fill::start_streaming(int status, http::Headers headers, int64_t content_length, std::string cache_status) {
  {
    std::lock_guard lk(mu_);
    if (state_ != State::Pending) return;
    state_ = State::Streaming;
    status_ = status;
    headers_ = std::move(headers);
    content_length_ = content_length;
    cache_status_ = std::move(cache_status);
  }
  wake_all();
}

void Fill::add_interim(int status, http::Headers headers) {
  {
    std::lock_guard lk(mu_);
    if (state_ != State::Pending || interim_.size() >= kMaxInterim) return;
    interim_.push_back(Interim{status, std::move(headers)});
  }
  wake_all();
}

void Fill::pace(net::Worker* producer, size_t window, std::function<void()> resume) {
  std::lock_guard lk(mu_);
  paced_ = true;
  window_ = window;
  producer_ = producer;
  resume_ = std::move(resume);
}

bool Fill::append(const Bytes& chunk) {
  bool go_on = true;
  {
    std::lock_guard lk(mu_);
    if (state_ != State::Streaming) return true;
    chunks_.push_back(chunk);
    held_bytes_ += chunk->size();
    if (paced_) {
      trim_locked();
      if (held_bytes_ >= window_ && !waiters_.empty()) producer_paused_ = true;
      go_on = !producer_paused_;
    }
  }
  wake_all();
  return go_on;
}

bool Fill::abandoned() const {
  std::lock_guard lk(mu_);
  return paced_ && waiters_.empty();
}

uint64_t Fill::first_needed_locked(const Waiter& w) const {
  return paced_ && status_ == 200 && content_length_ >= 0 ? w.first : 0;
}

void Fill::check_joinable_locked(Waiter& w, bool arriving) {
  if (w.checked || state_ == State::Pending) return;
  w.checked = true;
  if (single_request_) return;
  if (!paced_) {
    // Every block is kept: only a range far beyond what has arrived goes its own way.
    w.not_joinable = range_reach_ > 0 && status_ == 200 && content_length_ >= 0 &&
                     w.first > base_offset_ + held_bytes_ + range_reach_;
    return;
  }
  const uint64_t first = first_needed_locked(w);
  // Dropped already, more than a window ahead of the slowest waiter (whose pace this fill keeps:
  // the waiter would wait for it), or arriving while that waiter holds the upstream.
  w.not_joinable =
      first < base_offset_ || first - base_offset_ > window_ || (arriving && producer_paused_);
}

bool Fill::trim_locked() {
  // The front block goes once no waiter needs it: each has taken it or wants only later bytes.
  while (!chunks_.empty()) {
    const uint64_t end = base_offset_ + chunks_.front()->size();
    bool needed = false;
    for (auto& w : waiters_) {
      if (!w->not_joinable && w->next <= base_ && first_needed_locked(*w) < end) {
        needed = true;
        break;
      }
    }
    if (needed) break;
    held_bytes_ -= chunks_.front()->size();
    chunks_.pop_front();
    ++base_;
    base_offset_ = end;
  }
  bool resume = producer_paused_ && (held_bytes_ <= window_ / 2 || waiters_.empty());
  if (resume) producer_paused_ = false;
  return resume;
}

void Fill::finish(cache::ObjectRef stored) {
  {
    std::lock_guard lk(mu_);
    if (state_ != State::Streaming) return;
    state_ = State::Done;
    late_object_ = std::move(stored);
  }
  wake_all();
}

void Fill::finish_with_object(cache::ObjectRef obj, std::string cache_status) {
  {
    std::lock_guard lk(mu_);
    if (state_ != State::Pending) return;
    state_ = State::Done;
    object_ = std::move(obj);
    cache_status_ = std::move(cache_status);
  }
  wake_all();
}

void Fill::fail(std::string error) {
  {
    std::lock_guard lk(mu_);
    if (state_ == State::Done || state_ == State::Failed) return;
    state_ = State::Failed;
    error_ = std::move(error);
  }
  wake_all();
}

std::shared_ptr<Fill::Waiter> Fill::add_waiter(net::Worker* w, std::function<void()> wake,
                                               uint64_t first) {
  auto waiter = std::make_shared<Waiter>();
  waiter->worker = w;
  waiter->wake = std::move(wake);
  waiter->first = first;
  {
    std::lock_guard lk(mu_);
    waiter->joined_after_end = state_ == State::Done;
    // Decided now when the head is known, so it never holds back blocks it cannot use.
    check_joinable_locked(*waiter, true);
    waiters_.push_back(waiter);
  }
  return waiter;
}

void Fill::remove_waiter(const std::shared_ptr<Waiter>& w) {
  w->gone = true;
  bool resume = false;
  std::function<void()> fn;
  net::Worker* producer = nullptr;
  {
    std::lock_guard lk(mu_);
    // Swapped with the last: ten thousand viewers leaving a blocking reload's fill must not
    // shift the list once each (their order does not matter).
    if (auto it = std::find(waiters_.begin(), waiters_.end(), w); it != waiters_.end()) {
      *it = std::move(waiters_.back());
      waiters_.pop_back();
    }
    if (paced_) {
      // The last waiter leaving must reach the producer even when it was not paused: it stops.
      resume = trim_locked() || waiters_.empty();
      fn = resume_;
      producer = producer_;
    }
  }
  if (resume && fn && producer) producer->post(fn);
}

size_t Fill::held_blocks() const {
  std::lock_guard lk(mu_);
  return chunks_.size();
}

bool Fill::may_carry_surrogate_key(std::string_view key) const {
  std::vector<cache::StoredHeader> tags;
  {
    std::lock_guard lk(mu_);
    if (state_ == State::Pending) return true;
    for (const auto& h : headers_)
      if (cache::is_surrogate_key_header(h.name)) tags.push_back({h.name, h.value});
  }
  for (const auto& k : cache::surrogate_keys(tags))
    if (k == key) return true;
  return false;
}

size_t Fill::waiter_count() const {
  std::lock_guard lk(mu_);
  return waiters_.size();
}

void Fill::read(Waiter& w, View& out, size_t max_bytes) {
  bool resume = false;
  std::function<void()> fn;
  net::Worker* producer = nullptr;
  {
    std::lock_guard lk(mu_);
    out.state = state_;
    out.status = status_;
    out.headers = state_ == State::Pending ? nullptr : &headers_;
    out.content_length = content_length_;
    out.cache_status = cache_status_;
    out.object = object_;
    if (!out.object && late_object_ && w.joined_after_end && !purged_) {
      out.object = late_object_;
      out.cache_status = "HIT";
    }
    out.error = error_;
    out.new_chunks.clear();
    out.interim.clear();
    // Also once the head is in (it may follow its interim responses before this waiter woke):
    // the waiter passes them on only while its own response has not started.
    if (!w.joined_after_end)
      for (; w.next_interim < interim_.size(); ++w.next_interim)
        out.interim.push_back(interim_[w.next_interim]);
    check_joinable_locked(w, false);
    if (w.not_joinable && state_ != State::Failed) {
      // The bytes it needs are gone or far ahead, and the body will not be stored.
      out.state = State::Failed;
      out.error = "fill-not-joinable";
      return;
    }
    if (w.next < base_) {  // what was dropped before it was not needed by it (trim_locked)
      w.next = base_;
      w.next_offset = base_offset_;
    }
    const uint64_t first = first_needed_locked(w);
    while (w.next < base_ + chunks_.size()) {  // blocks wholly before its first byte
      const size_t n = chunks_[w.next - base_]->size();
      if (w.next_offset + n > first) break;
      w.next_offset += n;
      ++w.next;
    }
    out.offset = w.next_offset;
    size_t taken = 0;
    while (w.next < base_ + chunks_.size() && (taken == 0 || taken < max_bytes)) {
      const Bytes& c = chunks_[w.next - base_];
      out.new_chunks.push_back(c);
      taken += c->size();
      w.next_offset += c->size();
      ++w.next;
    }
    out.more = w.next < base_ + chunks_.size();
    if (paced_ && taken > 0) {
      resume = trim_locked();
      fn = resume_;
      producer = producer_;
    }
  }
  if (resume && fn && producer) producer->post(fn);
}

void Fill::wake_all() {
  std::vector<std::shared_ptr<Waiter>> ws;
  {
    std::lock_guard lk(mu_);
    ws = waiters_;
  }
  for (auto& w : ws) {
    // One pending wake per waiter: a fast upstream must not flood a slow loop with tasks.
    if (w->scheduled.exchange(true)) continue;
    w->worker->post([w]() {
      w->scheduled = false;
      if (!w->gone) w->wake();
    });
  }
}

std::pair<std::shared_ptr<Fill>, bool> InflightTable::join_or_create(const cache::CacheKey& key) {
  Shard& s = shards_[key.hash % kShards];
  std::lock_guard lk(s.mu);
  auto it = s.map.find(key.text);
  if (it != s.map.end()) return {it->second, false};
  auto f = std::make_shared<Fill>(key);
  s.map.emplace(key.text, f);
  return {f, true};
}

std::shared_ptr<Fill> InflightTable::replace(const cache::CacheKey& key) {
  Shard& s = shards_[key.hash % kShards];
  auto f = std::make_shared<Fill>(key);
  std::lock_guard lk(s.mu);
  s.map[key.text] = f;
  return f;
}

void InflightTable::remove(const cache::CacheKey& key, const Fill* fill) {
  Shard& s = shards_[key.hash % kShards];
  std::lock_guard lk(s.mu);
  auto it = s.map.find(key.text);
  if (it != s.map.end() && it->second.get() == fill) s.map.erase(it);
}

void InflightTable::purge(std::string_view key_text, bool prefix) {
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto it = s.map.begin(); it != s.map.end();) {
      bool match = prefix ? std::string_view(it->first).substr(0, key_text.size()) == key_text : it->first == key_text;
      if (match) {
        it->second->mark_purged();
        it = s.map.erase(it);  // requests after the purge start a fill of their own
      } else {
        ++it;
      }
    }
  }
}

void InflightTable::purge_tagged(std::string_view key) {
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto it = s.map.begin(); it != s.map.end();) {
      if (it->second->may_carry_surrogate_key(key)) {
        it->second->mark_purged();
        it = s.map.erase(it);
      } else {
        ++it;
      }
    }
  }
}

size_t InflightTable::size() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace cdn::proxy
