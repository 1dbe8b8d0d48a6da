#include "common/adaptive_spin.h"

#include <algorithm>
#include <thread>

namespace micromongo {
namespace {

std::atomic<int> g_spinning{0};

int MaxSpinning() {
  static const int max = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  return max;
}

}  // namespace

AdaptiveSpin::AdaptiveSpin(std::chrono::microseconds budget) : budget_(budget) {}

int AdaptiveSpin::spinning() { return g_spinning.load(std::memory_order_relaxed); }

bool AdaptiveSpin::Wait(const std::function<bool()>& ready) {
  if (budget_.count() <= 0) return ready();
  if (credit_ < 0 && ++waits_without_spin_ % kResampleEvery != 0) return ready();
  // Take a spinning slot, or do not spin.
  int now = g_spinning.load(std::memory_order_relaxed);
  do {
    if (now >= MaxSpinning()) return ready();
  } while (!g_spinning.compare_exchange_weak(now, now + 1, std::memory_order_acq_rel));
  auto until = std::chrono::steady_clock::now() + budget_;
  bool got = false;
  while (!(got = ready()) && std::chrono::steady_clock::now() < until) {
  }
  g_spinning.fetch_sub(1, std::memory_order_acq_rel);
  // A connection that had stopped spinning starts again at once when a re-try pays off.
  credit_ = got ? std::min(kMaxCredit, std::max(0, credit_) + 1) : std::max(kMinCredit, credit_ - 1);
  if (credit_ >= 0) waits_without_spin_ = 0;
  return got;
}

}  // namespace micromongo
