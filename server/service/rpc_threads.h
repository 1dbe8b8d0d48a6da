#pragma once

// The threads that serve the worker's gRPC completion queue: a leader, a standby and
// followers.
//
// One thread at a time (the leader) polls the queue and runs what it takes, unary handlers
// included: the request is served on the thread that read it, with no wake-up of another
// thread on the way. Before it blocks, the leader polls the queue for a short while
// (common/adaptive_spin.h): on virtual machines a blocked thread's CPU halts, and
// waking it costs tens of microseconds per request. Only one thread ever polls, because
// gRPC lets one thread at a time wait on its pollers: a second thread blocked in the queue
// would own the poller and the spinning one would see nothing until the kernel woke the
// other. (Handing the queue to a follower before each handler, the classic leader/follower
// way, doubled the round trip of a Ping: the follower's wake-up was on the next request's
// path.)
//
// Under concurrent load the queue holds requests already when the leader asks for one: the
// leader then hands the queue to the standby (or a follower) before it runs the handler, so
// that the waiting requests are served in parallel on other cores, up to `max_parallel`
// handlers at once. (On 2 vCPUs, handing over for every queued request took find by _id
// with 8 client threads from ~35k to 19-25k requests/s: each hand-over wakes a thread,
// and there is no idle core for it; so the default leaves one core to the rest.)
//
// A handler may run long (a large aggregation, a getMore awaiting data): the standby thread
// watches the leader and, once its handler has run for `takeover_after`, becomes the leader
// itself; the old leader becomes a follower when its handler ends. The standby ticks only
// while the leader is busy or was busy recently, and sleeps when the server is idle.
//
// Contract: events are `RpcEvent`s (the tag of every operation started on the queue). A
// handler calls `HandOff()` before it runs (later calls do nothing): from then on the
// standby may take over. At most `max_threads` threads exist. `Join()` returns once the
// queue was shut down and drained.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <grpcpp/completion_queue.h>

namespace micromongo::service {

// Marks `tag` as handed to gRPC: what this thread wrote before happens before the pool
// thread that takes the tag from the queue reads it. Only ThreadSanitizer needs telling
// (gRPC is not instrumented, so the hand-over through its queue is invisible to it);
// elsewhere this is nothing. Call it before starting an operation with `tag`.
void PublishTag(void* tag);

// The tag of an operation on the completion queue.
class RpcEvent {
 public:
  virtual ~RpcEvent() = default;
  // Runs on a pool thread when the operation completes; `ok` is gRPC's flag.
  virtual void Proceed(bool ok) = 0;
};

struct RpcThreadOptions {
  std::chrono::microseconds spin{150};  // zero: never poll before blocking
  int max_threads = 1000;
  int max_idle_threads = 4;  // followers beyond these exit
  // How long a handler may hold the leader before the standby polls in its place; the
  // standby wakes this often while the leader is busy. Measured on 2 vCPUs: ticks every 1-3
  // ms made a Ping's round trip 50-70% slower (the ticking thread's wake-ups compete with
  // the spinning leader and the client), every 10 ms changed nothing measurable.
  std::chrono::microseconds takeover_after{10'000};
  // Handlers running at once beyond which queued requests wait for the leader rather than
  // being handed over (a long handler is still taken over from). 0: the number of CPUs
  // less one, at least 1.
  int max_parallel = 0;
};

class RpcThreads {
 public:
  RpcThreads(grpc::CompletionQueue* cq, RpcThreadOptions options);
  ~RpcThreads();  // joins (the queue must be shut down by then)

  RpcThreads(const RpcThreads&) = delete;
  RpcThreads& operator=(const RpcThreads&) = delete;

  // Starts the first thread.
  void Start();

  // Called from an event's Proceed before it runs a handler: the standby may poll in this
  // thread's place from now on. Does nothing on a thread that is not the leader.
  void HandOff();

  // Waits until every thread has exited: the queue was shut down and is drained.
  void Join();

  // For tests: threads alive now.
  int threads() const;

 private:
  void Run();
  // Polls and runs events until drained (false) or replaced by the standby (true).
  bool Lead(std::unique_lock<std::mutex>& l, void* spin_state);
  // Watches the leader until it takes its place or the leader role is free.
  void StandBy(std::unique_lock<std::mutex>& l);
  // `immediate`: the queue held the event at once (others may be waiting behind it).
  bool Poll(void** tag, bool* ok, void* spin_state, bool* immediate);
  void StartThreadLocked();
  void ReapLocked();
  static int64_t NowNanos();

  grpc::CompletionQueue* const cq_;
  const RpcThreadOptions options_;
  mutable std::mutex mu_;
  std::condition_variable followers_;
  std::condition_variable exited_;
  // Under mu_:
  bool leader_taken_ = false;
  uint64_t leader_epoch_ = 0;  // changes with every new leader
  bool standby_taken_ = false;
  bool drained_ = false;         // the queue returned its shutdown: everyone exits
  std::condition_variable standby_;
  // When the leader's handler started (steady clock, ns); 0 while it polls. Set without
  // mu_ by HandOff, cleared under it.
  std::atomic<int64_t> busy_since_{0};
  // The standby waits for HandOff's notification (set and cleared under mu_).
  std::atomic<bool> standby_asleep_{false};
  std::atomic<int> running_handlers_{0};  // handlers that called HandOff and have not ended
  int max_parallel_ = 1;
  int idle_ = 0;
  int threads_ = 0;
  std::vector<std::thread> running_;  // joined when they end (ids in finished_)
  std::vector<std::thread::id> finished_;
};

}  // namespace micromongo::service
