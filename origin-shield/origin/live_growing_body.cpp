#include "origin-shield/origin/live_growing_body.h"

#include <algorithm>
#include <string_view>

#include "common/util/clock.h"
#include "origin-shield/origin/live_cmaf_output.h"
#include "origin-shield/origin/live_http.h"
#include "origin-shield/origin/live_rendition.h"

namespace cdn::origin {

namespace {

GrowingView of_chunks(const std::vector<Bytes>& chunks) {
  GrowingView v;
  if (chunks.empty()) return v;
  v.chunks = &chunks;
  for (const Bytes& c : chunks) v.chunk_bytes += c->size();
  return v;
}

GrowingView part_view(const CmafSnapshot& s, const GrowingTarget& t) {
  GrowingView v;
  if (s.session != t.session) {
    v.gone = true;
  } else if (auto it = s.parts.find(t.number); it != s.parts.end()) {
    v.whole = it->second;
  } else if (t.number < s.next_part) {
    v.gone = true;  // written and already dropped from memory
  } else if (t.number == s.next_part && s.part_growing.number == t.number) {
    v = of_chunks(s.part_growing.muxed);
  }
  return v;
}

GrowingView segment_view(const CmafSnapshot& s, const GrowingTarget& t) {
  GrowingView v;
  if (auto it = s.segments.find(t.number); it != s.segments.end()) {
    const CmafStoredSegment& seg = it->second;
    v.whole = t.track == 'v' ? seg.video : t.track == 'a' ? seg.audio : seg.muxed;
    v.gone = !v.whole;
  } else if (!s.segments.empty() && t.number < s.segments.rbegin()->first) {
    v.gone = true;
  } else if (s.segment_growing && s.segment_growing->number == t.number) {
    const CmafGrowing& g = *s.segment_growing;
    v = of_chunks(t.track == 'v' ? g.video : t.track == 'a' ? g.audio : g.muxed);
  } else if (s.segment_growing && s.segment_growing->number > t.number) {
    v.gone = true;
  }
  return v;
}

// One streamed response; kept alive by its parked waiter and the exchange's abort hook.
struct GrowingBody : std::enable_shared_from_this<GrowingBody> {
  std::shared_ptr<http::Exchange> ex;
  const LiveRendition* rendition = nullptr;
  GrowingTarget target;
  size_t sent = 0;
  int64_t deadline_ms = 0;  // mono
  std::function<void()> cancel;

  void end(PartWaiters::Outcome o, bool complete, const char* reason = nullptr) {
    PartWaiters::count(o);
    if (reason) count_live_error(reason);
    ex->on_abort(nullptr);
    complete ? ex->finish() : ex->abort();
  }

  // Sends what the latest snapshot has beyond `sent`; then ends, or parks for more.
  void pump(bool stream_ended) {
    if (!ex->alive()) return PartWaiters::count(PartWaiters::Outcome::kGone);
    auto snap = rendition->snapshot()->cmaf;
    GrowingView v;
    if (snap) v = view_growing(*snap, target);
    v.gone = v.gone || !snap;
    if (v.whole) {
      if (v.whole->size() > sent)
        ex->write(sent == 0 ? v.whole : make_bytes(std::string_view(*v.whole).substr(sent)));
      return end(PartWaiters::Outcome::kReady, true);
    }
    if (v.gone || stream_ended || (snap && snap->ended))
      return end(PartWaiters::Outcome::kEnded, false, "part-not-written");
    if (v.chunks) {
      size_t at = 0;
      for (const Bytes& c : *v.chunks) {
        if (at == sent) {
          ex->write(c);
          sent += c->size();
        }
        at += c->size();
      }
    }
    park();
  }

  void park() {
    const int64_t left = deadline_ms - mono_ms();
    if (left <= 0) return end(PartWaiters::Outcome::kTimeout, false, "part-wait-timeout");
    const GrowingTarget t = target;
    const size_t have = sent;
    auto ready = [t, have](const CmafSnapshot& s) {
      GrowingView v = view_growing(s, t);
      return v.whole || v.gone || v.chunk_bytes > have;
    };
    auto done = [self = shared_from_this()](PartWaiters::Outcome o) {
      switch (o) {
        case PartWaiters::Outcome::kGone:
          return PartWaiters::count(o);
        case PartWaiters::Outcome::kTimeout:
          return self->end(o, false, "part-wait-timeout");
        default:
          return self->pump(o == PartWaiters::Outcome::kEnded);
      }
    };
    const LiveRendition* r = rendition;
    auto current = [r]() { return r->snapshot()->cmaf; };
    if (!r->waiters().park(ex->worker(), left, std::move(ready), std::move(done), &cancel, current,
                           false)) {
      count_live_error("too-many-held-requests");
      ex->on_abort(nullptr);
      ex->abort();
    }
  }
};

}  // namespace

GrowingView view_growing(const CmafSnapshot& s, const GrowingTarget& t) {
  return t.part ? part_view(s, t) : segment_view(s, t);
}

void stream_growing(const std::shared_ptr<http::Exchange>& ex, const LiveRendition& r,
                    const GrowingTarget& t, http::Headers h, int64_t timeout_ms) {
  // Headers now, body as it is written: the request is in flight before its first byte exists.
  if (!ex->start(200, std::move(h), -1)) return;
  auto body = std::make_shared<GrowingBody>();
  body->ex = ex;
  body->rendition = &r;
  body->target = t;
  body->deadline_ms = mono_ms() + timeout_ms;
  std::weak_ptr<GrowingBody> weak = body;
  ex->on_abort([weak] {
    if (auto b = weak.lock(); b && b->cancel) b->cancel();
  });
  body->pump(false);
}

}  // namespace cdn::origin
