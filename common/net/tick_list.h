#pragma once
// Periodic checks for many objects on one loop (connection deadlines, send stalls) from a single
// uv_timer, instead of a uv_timer_t (152 bytes) in every idle connection. Members are linked
// intrusively: membership costs two pointers and never allocates.
#include <uv.h>

#include <cstdint>

#include "common/net/uv_handle.h"

namespace cdn::net {

class TickList {
 public:
  class Node {
   public:
    Node() = default;
    ~Node() { unlink(); }
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    bool linked() const { return next_ != nullptr; }

   private:
    friend class TickList;
    void unlink();
    Node* prev_ = nullptr;
    Node* next_ = nullptr;
  };
  using OnTick = void (*)(Node* member, int64_t now_ms);
  // Runs once per period after every member was ticked (also on the period that finds the list
  // empty and stops the timer).
  using AfterTick = void (*)(void* arg);

  // The timer is created on the first add(), so construct anywhere; use only on loop's thread.
  TickList(uv_loop_t* loop, int64_t period_ms, OnTick on_tick, AfterTick after = nullptr,
           void* after_arg = nullptr);
  ~TickList();  // unlinks every member; members outliving the list stay valid
  TickList(const TickList&) = delete;
  TickList& operator=(const TickList&) = delete;

  void add(Node* n);
  static void remove(Node* n) { n->unlink(); }
  bool empty() const { return head_.next_ == &head_; }
  size_t size() const;
  // Calls fn(member) for every member present when it is reached; fn may unlink any member.
  template <typename Fn>
  void for_each(Fn&& fn) {
    Node cursor;
    for (Node* n = head_.next_; n != &head_;) {
      insert_after(n, &cursor);
      fn(n);
      n = cursor.next_;
      cursor.unlink();
    }
  }

 private:
  static void on_timer(uv_timer_t* t);
  void insert_after(Node* at, Node* n);

  uv_loop_t* loop_;
  int64_t period_ms_;
  OnTick on_tick_;
  AfterTick after_;
  void* after_arg_;
  UvHandle<uv_timer_t> timer_;
  bool running_ = false;
  Node head_;
};

}  // namespace cdn::net
