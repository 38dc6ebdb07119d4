#include "common/net/tick_list.h"

#include "common/util/clock.h"

namespace cdn::net {

void TickList::Node::unlink() {
  if (!next_) return;
  prev_->next_ = next_;
  next_->prev_ = prev_;
  prev_ = next_ = nullptr;
}

TickList::TickList(uv_loop_t* loop, int64_t period_ms, OnTick on_tick, AfterTick after,
                   void* after_arg)
    : loop_(loop), period_ms_(period_ms), on_tick_(on_tick), after_(after), after_arg_(after_arg) {
  head_.prev_ = head_.next_ = &head_;
}

TickList::~TickList() {
  while (!empty()) head_.next_->unlink();
  head_.prev_ = head_.next_ = nullptr;
  if (timer_.initialized()) timer_->data = nullptr;
}

void TickList::insert_after(Node* at, Node* n) {
  n->prev_ = at;
  n->next_ = at->next_;
  at->next_->prev_ = n;
  at->next_ = n;
}

void TickList::add(Node* n) {
  n->unlink();
  insert_after(head_.prev_, n);
  if (running_) return;
  if (!timer_.initialized()) {
    uv_timer_init(loop_, timer_.get());
    timer_.mark_initialized();
    timer_->data = this;
  }
  running_ = true;
  uv_timer_start(timer_.get(), &TickList::on_timer, uint64_t(period_ms_), uint64_t(period_ms_));
}

size_t TickList::size() const {
  size_t n = 0;
  for (const Node* p = head_.next_; p != &head_; p = p->next_) ++n;
  return n;
}

void TickList::on_timer(uv_timer_t* t) {
  auto* self = static_cast<TickList*>(t->data);
  if (!self) return;
  if (self->empty()) {
    // Nothing to look at: an idle server does not wake up every period.
    self->running_ = false;
    uv_timer_stop(t);
  } else {
    int64_t now = mono_ms();
    OnTick fn = self->on_tick_;
    self->for_each([fn, now](Node* n) { fn(n, now); });
  }
  if (self->after_) self->after_(self->after_arg_);
}

}  // namespace cdn::net
