#include "common/net/memory_trim.h"

#include <malloc.h>

namespace cdn::net {

void TrimAfterBurst::on_period() {
  if (activity_ != seen_) {
    seen_ = activity_;  // still busy: wait for a quiet period
    return;
  }
  if (activity_ == trimmed_) return;  // nothing new since the last trim
  trimmed_ = activity_;
  trim_();
}

void TrimAfterBurst::trim_process_heap() { malloc_trim(0); }

}  // namespace cdn::net
