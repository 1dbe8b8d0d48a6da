#pragma once

// Spin-then-block for a thread waiting for another process: in the server a wire protocol
// connection's thread and the thread polling gRPC's completion queue
// (server/service/rpc_threads.h) waiting for the next request, in the client library a
// thread waiting for its call's reply (client/src/call_queue.h).
//
// A thread that blocks in read() puts its CPU to sleep when nothing else runs there, and on
// virtual machines waking a sleeping CPU is a trip through the hypervisor that costs tens
// of microseconds: a driver's back-to-back requests over a unix socket took ~60 us each
// here, ~20 us when the connection thread polled for the next request for a few
// microseconds before blocking. RocksDB's write thread (AwaitState) faces the same choice
// and makes it the same way: spin briefly while spinning has been paying off, else block.
//
// The spin is adaptive per connection, so idle or slow clients cost no CPU: each wait that
// the input ends within the budget raises the connection's credit, each that times out
// lowers it as much, and a connection without credit blocks at once (re-trying a spin
// every 64th wait, so that a client that speeds up is noticed). A connection thus spins
// while at least about half its spins pay off: a miss costs one budget of CPU and no
// latency, a hit saves a wake-up. (Falling twice as fast as it rose, the credit of a
// client whose requests alternate between a short and a slightly longer gap, such as
// micromongo-bench's calls beside its socket ping-pong, sank to the bottom and stayed
// there: the server then blocked before 60-90% of the requests instead of half.) Across
// the process at most half the CPUs (at least one) spin at once, so that spinning never
// takes a core from work.

#include <atomic>
#include <chrono>
#include <functional>

namespace micromongo {

class AdaptiveSpin {
 public:
  // `budget` zero: never spins.
  explicit AdaptiveSpin(std::chrono::microseconds budget);

  // Polls `ready` until it returns true or the budget is spent, if this connection's recent
  // spins paid off and a spinning slot is free. Returns whether `ready` returned true; the
  // caller blocks either way when it did not.
  bool Wait(const std::function<bool()>& ready);

  // For tests: the connection's current credit, and how many threads spin right now.
  int credit() const { return credit_; }
  static int spinning();

 private:
  static constexpr int kMaxCredit = 8;
  static constexpr int kMinCredit = -8;
  static constexpr int kResampleEvery = 64;

  std::chrono::microseconds budget_;
  int credit_ = 0;
  int waits_without_spin_ = 0;
};

}  // namespace micromongo
