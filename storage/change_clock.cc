#include "storage/change_clock.h"

#include <algorithm>
#include <ctime>

namespace micromongo::storage {

uint64_t ChangeClock::Reserve(uint32_t n) {
  uint64_t now = static_cast<uint64_t>(std::time(nullptr)) << 32;
  std::lock_guard<std::mutex> l(mu_);
  // Increments start at 1 in each second, as MongoDB's do; a second with more than 2^32
  // events carries into the next (the order is all that matters).
  uint64_t first = std::max(last_ + 1, now | 1);
  last_ = first + n - 1;
  in_flight_.insert(first);
  return first;
}

void ChangeClock::Release(uint64_t first) {
  {
    std::lock_guard<std::mutex> l(mu_);
    in_flight_.erase(first);
  }
  cv_.notify_all();
}

uint64_t ChangeClock::Visible() const {
  std::lock_guard<std::mutex> l(mu_);
  return VisibleLocked();
}

void ChangeClock::Advance(uint64_t ts) {
  std::lock_guard<std::mutex> l(mu_);
  last_ = std::max(last_, ts);
}

uint64_t ChangeClock::WaitPast(uint64_t ts, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, timeout, [&] { return VisibleLocked() > ts; });
  return VisibleLocked();
}

}  // namespace micromongo::storage
