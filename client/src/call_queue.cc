#include "call_queue.h"

#include <grpc/support/time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "common/adaptive_spin.h"

namespace micromongo::internal {
namespace {

// Long enough for a round trip that reads or writes a few documents (25-40 us on 2 vCPUs),
// short enough that a slow call wastes little before its thread blocks.
constexpr std::chrono::microseconds kSpin{250};

// With one CPU a polling caller only delays the worker it waits for.
std::chrono::microseconds SpinBudget() {
  return std::thread::hardware_concurrency() > 1 ? kSpin : std::chrono::microseconds(0);
}

struct ThreadQueue {
  grpc::CompletionQueue queue;
  AdaptiveSpin spin{SpinBudget()};

  ~ThreadQueue() {
    queue.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) {
    }
  }
};

// Calls of this process waiting for their reply. Only a call that waits alone spins: with
// several in flight the worker is busy with them and the CPUs are better left to it (8
// threads finding by _id at once, 2 vCPUs: 13.9-14.2k calls/s when any waiting thread
// could spin, 15.1-18.2k when only a lone waiter does).
std::atomic<int> g_waiting{0};

ThreadQueue& Mine() {
  thread_local ThreadQueue queue;
  return queue;
}

}  // namespace

grpc::CompletionQueue* CallQueue() { return &Mine().queue; }

void AwaitEvent(void* tag) {
  ThreadQueue& q = Mine();
  void* got = nullptr;
  bool ok = false;
  grpc::CompletionQueue::NextStatus status = grpc::CompletionQueue::TIMEOUT;
  if (g_waiting.fetch_add(1, std::memory_order_acq_rel) == 0) {
    // AsyncNext with a deadline in the past reads what the socket holds and returns.
    q.spin.Wait([&] {
      status = q.queue.AsyncNext(&got, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
      return status != grpc::CompletionQueue::TIMEOUT;
    });
  }
  if (status == grpc::CompletionQueue::TIMEOUT && !q.queue.Next(&got, &ok)) {
    status = grpc::CompletionQueue::SHUTDOWN;
  }
  g_waiting.fetch_sub(1, std::memory_order_acq_rel);
  if (status == grpc::CompletionQueue::SHUTDOWN || got != tag) {
    // Only a broken contract gets here (a second call in flight on this thread).
    std::fprintf(stderr, "micromongo: a call's completion queue returned another event\n");
    std::abort();
  }
}

}  // namespace micromongo::internal
