#include "service/rpc_threads.h"

#include <algorithm>

#include "common/adaptive_spin.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MM_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#endif

namespace micromongo::service {

void PublishTag(void* tag) {
#ifdef MM_TSAN
  __tsan_release(tag);
#else
  (void)tag;
#endif
}

namespace {

// The pool whose leader this thread is, if any.
thread_local RpcThreads* t_leading = nullptr;
// Whether the event this leader runs called HandOff.
thread_local bool t_busy = false;
// Whether the queue held the event this leader runs when it asked (requests are waiting).
thread_local bool t_immediate = false;
// Whether HandOff gave the leader role away for the event this thread runs.
thread_local bool t_released = false;

}  // namespace

RpcThreads::RpcThreads(grpc::CompletionQueue* cq, RpcThreadOptions options)
    : cq_(cq),
      options_(options),
      max_parallel_(options.max_parallel > 0
                        ? options.max_parallel
                        : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1)) {}

RpcThreads::~RpcThreads() { Join(); }

void RpcThreads::Start() {
  std::lock_guard<std::mutex> l(mu_);
  StartThreadLocked();
}

int RpcThreads::threads() const {
  std::lock_guard<std::mutex> l(mu_);
  return threads_;
}

void RpcThreads::StartThreadLocked() {
  ReapLocked();
  ++threads_;
  running_.emplace_back(&RpcThreads::Run, this);
}

void RpcThreads::ReapLocked() {
  // A finished thread pushed its id holding mu_ and takes it no more: joining it under mu_
  // cannot wait for us.
  for (std::thread::id id : finished_) {
    auto it = std::find_if(running_.begin(), running_.end(), [&](const std::thread& t) { return t.get_id() == id; });
    if (it != running_.end()) {
      it->join();
      running_.erase(it);
    }
  }
  finished_.clear();
}

int64_t RpcThreads::NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RpcThreads::HandOff() {
  if (t_leading != this || t_busy) return;
  t_busy = true;
  int running = running_handlers_.fetch_add(1) + 1;
  if (t_immediate && running < max_parallel_) {
    // Other requests were already waiting when this one was taken: another thread polls
    // from now on, so that they run in parallel with this one.
    std::lock_guard<std::mutex> l(mu_);
    t_released = true;
    leader_taken_ = false;
    if (standby_taken_) {
      standby_.notify_one();
    } else if (idle_ > 0) {
      followers_.notify_one();
    } else if (threads_ < options_.max_threads) {
      StartThreadLocked();
    }
    return;
  }
  // Sequentially consistent with standby_asleep_: either it sees this store before it
  // sleeps, or this thread sees it asleep and wakes it.
  busy_since_.store(NowNanos());
  if (standby_asleep_.load()) {
    std::lock_guard<std::mutex> l(mu_);  // so that the notification cannot fall before its wait
    standby_.notify_one();
  }
}

bool RpcThreads::Poll(void** tag, bool* ok, void* spin_state, bool* immediate) {
  auto* spin = static_cast<AdaptiveSpin*>(spin_state);
  // An event already in the queue is found within a few tries (one try can miss an event
  // whose enqueueing is in progress); one that has to be waited for is not "immediate".
  grpc::CompletionQueue::NextStatus status = grpc::CompletionQueue::TIMEOUT;
  for (int i = 0; i < 3 && status == grpc::CompletionQueue::TIMEOUT; ++i) {
    status = cq_->AsyncNext(tag, ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
  }
  *immediate = status == grpc::CompletionQueue::GOT_EVENT;
  if (status == grpc::CompletionQueue::TIMEOUT) {
    spin->Wait([&] {
      status = cq_->AsyncNext(tag, ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
      return status != grpc::CompletionQueue::TIMEOUT;
    });
  }
  if (status == grpc::CompletionQueue::SHUTDOWN) return false;
  if (status != grpc::CompletionQueue::GOT_EVENT && !cq_->Next(tag, ok)) return false;
#ifdef MM_TSAN
  __tsan_acquire(*tag);
#endif
  return true;
}

bool RpcThreads::Lead(std::unique_lock<std::mutex>& l, void* spin_state) {
  leader_taken_ = true;
  const uint64_t epoch = ++leader_epoch_;
  busy_since_.store(0);
  if (!standby_taken_) {
    if (idle_ > 0) {
      followers_.notify_one();
    } else if (threads_ < options_.max_threads) {
      StartThreadLocked();
    }
  }
  l.unlock();
  t_leading = this;
  while (true) {
    void* tag = nullptr;
    bool ok = false;
    if (!Poll(&tag, &ok, spin_state, &t_immediate)) {
      t_leading = nullptr;
      l.lock();
      drained_ = true;
      followers_.notify_all();
      standby_.notify_all();
      return false;
    }
    static_cast<RpcEvent*>(tag)->Proceed(ok);
    if (t_busy) {
      t_busy = false;
      running_handlers_.fetch_sub(1);
      if (t_released) {  // another thread leads already
        t_released = false;
        t_leading = nullptr;
        l.lock();
        return true;
      }
      l.lock();
      if (leader_epoch_ != epoch) {  // the standby took over while the handler ran
        t_leading = nullptr;
        return true;
      }
      busy_since_.store(0);
      l.unlock();
    }
  }
}

void RpcThreads::StandBy(std::unique_lock<std::mutex>& l) {
  // Ticks while the leader was busy within the last second; sleeps after that.
  constexpr int64_t kStayAwakeNanos = 1'000'000'000;
  const int64_t takeover = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.takeover_after).count();
  standby_taken_ = true;
  int64_t last_busy = NowNanos();
  while (!drained_ && leader_taken_) {
    int64_t since = busy_since_.load();
    int64_t now = NowNanos();
    if (since != 0) {
      last_busy = now;
      if (now - since >= takeover) {
        leader_taken_ = false;  // the caller leads next, in the same critical section
        break;
      }
      standby_.wait_for(l, std::chrono::nanoseconds(since + takeover - now));
    } else if (now - last_busy < kStayAwakeNanos) {
      standby_.wait_for(l, std::chrono::nanoseconds(takeover));
    } else {
      standby_asleep_.store(true);
      standby_.wait(l, [&] { return drained_ || !leader_taken_ || busy_since_.load() != 0; });
      standby_asleep_.store(false);
      last_busy = NowNanos();
    }
  }
  standby_taken_ = false;
}

void RpcThreads::Run() {
  AdaptiveSpin spin(options_.spin);
  std::unique_lock<std::mutex> l(mu_);
  while (!drained_) {
    if (!leader_taken_) {
      if (!Lead(l, &spin)) break;
      // Replaced while a handler ran: a follower now, unless enough threads idle.
      if (idle_ >= options_.max_idle_threads) break;
      continue;
    }
    if (!standby_taken_) {
      StandBy(l);
      continue;
    }
    ++idle_;
    followers_.wait(l, [&] { return drained_ || !leader_taken_ || !standby_taken_; });
    --idle_;
  }
  --threads_;
  finished_.push_back(std::this_thread::get_id());
  exited_.notify_all();
}

void RpcThreads::Join() {
  std::unique_lock<std::mutex> l(mu_);
  exited_.wait(l, [&] { return threads_ == 0; });
  std::vector<std::thread> threads = std::move(running_);
  running_.clear();
  finished_.clear();
  l.unlock();
  for (std::thread& t : threads) t.join();
}

}  // namespace micromongo::service
