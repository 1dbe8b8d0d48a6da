#include "service/rpc_threads.h"

#include <grpcpp/alarm.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <vector>
#include <thread>

#include "service/rpc_calls.h"

namespace micromongo::service {
namespace {

using namespace std::chrono_literals;

// An event posted to the queue at once (through an alarm) that runs `fn` on a pool thread.
class Posted final : public RpcEvent {
 public:
  Posted(grpc::CompletionQueue* cq, std::function<void()> fn) : fn_(std::move(fn)) {
    PublishTag(this);
    alarm_.Set(cq, gpr_now(GPR_CLOCK_MONOTONIC), this);
  }
  void Proceed(bool) override { fn_(); }

 private:
  grpc::Alarm alarm_;
  std::function<void()> fn_;
};

class RpcThreadsTest : public ::testing::Test {
 protected:
  void StartPool(RpcThreadOptions options) {
    threads_ = std::make_unique<RpcThreads>(&cq_, options);
    threads_->Start();
  }
  void TearDown() override {
    cq_.Shutdown();
    threads_->Join();
    EXPECT_EQ(threads_->threads(), 0);
    posted_.clear();  // alarms are destroyed after the queue is drained
  }
  void Post(std::function<void()> fn) { posted_.push_back(std::make_unique<Posted>(&cq_, std::move(fn))); }

  grpc::CompletionQueue cq_;
  std::unique_ptr<RpcThreads> threads_;
  std::vector<std::unique_ptr<Posted>> posted_;
};

TEST_F(RpcThreadsTest, ShortEventsRunOnTheLeaderThread) {
  StartPool({.spin = 0us});
  std::this_thread::sleep_for(20ms);  // the leader waits: no event is in the queue before it asks
  std::set<std::thread::id> ran_on;
  std::mutex mu;
  for (int i = 0; i < 50; ++i) {
    std::promise<void> done;
    Post([&] {
      threads_->HandOff();  // a handler that returns at once keeps its thread leading
      std::lock_guard<std::mutex> l(mu);
      ran_on.insert(std::this_thread::get_id());
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    // The next one comes when the leader waits again (one already waiting would be handed
    // to another thread).
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(ran_on.size(), 1u);
  EXPECT_LE(threads_->threads(), 2);  // the leader and its standby
}

TEST_F(RpcThreadsTest, TheStandbyServesOthersWhileAHandlerBlocks) {
  StartPool({.spin = 0us, .takeover_after = 2ms});
  for (int blocked = 1; blocked <= 3; ++blocked) {
    // `blocked` handlers wait for a last event, which only a thread that took over from
    // them can run.
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> waiting{0};
    for (int i = 0; i < blocked; ++i) {
      Post([&, released] {  // a copy: the handler may still wait when this iteration ends
        threads_->HandOff();
        ++waiting;
        released.wait_for(10s);
      });
    }
    // Every one of them runs (each started after a takeover from the one before)...
    for (int i = 0; i < 500 && waiting.load() < blocked; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(waiting.load(), blocked);
    // ...and so does an event posted while all of them block.
    auto start = std::chrono::steady_clock::now();
    std::promise<void> last;
    Post([&] { last.set_value(); });
    ASSERT_EQ(last.get_future().wait_for(5s), std::future_status::ready) << blocked;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    release.set_value();
  }
}

TEST_F(RpcThreadsTest, RequestsAlreadyWaitingRunInParallel) {
  // No takeover within the test: only the hand-over for waiting requests lets them meet.
  StartPool({.spin = 0us, .takeover_after = 60s, .max_parallel = 4});
  // The first event finds the leader waiting, so it runs on the leader's thread (were it
  // in the queue already, it would be handed over too).
  std::this_thread::sleep_for(20ms);
  std::promise<void> first_done;
  Post([&] {
    threads_->HandOff();
    std::this_thread::sleep_for(50ms);  // the others queue up meanwhile
    first_done.set_value();
  });
  std::this_thread::sleep_for(10ms);
  constexpr int kWaiting = 3;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::atomic<int> met{0};
  for (int i = 0; i < kWaiting; ++i) {
    Post([&] {
      threads_->HandOff();
      std::unique_lock<std::mutex> l(mu);
      ++arrived;
      cv.notify_all();
      if (cv.wait_for(l, 5s, [&] { return arrived == kWaiting; })) ++met;
    });
  }
  ASSERT_EQ(first_done.get_future().wait_for(5s), std::future_status::ready);
  for (int i = 0; i < 700 && met.load() < kWaiting; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(met.load(), kWaiting);  // all three handlers ran at the same time
}

TEST_F(RpcThreadsTest, BeyondMaxParallelWaitingRequestsWaitForTheLeader) {
  StartPool({.spin = 0us, .takeover_after = 60s, .max_parallel = 1});
  std::this_thread::sleep_for(20ms);
  std::atomic<bool> first_running{true};
  Post([&] {
    threads_->HandOff();
    std::this_thread::sleep_for(50ms);
    first_running = false;
  });
  std::this_thread::sleep_for(10ms);
  std::mutex mu;
  std::set<std::thread::id> ran_on;
  std::atomic<int> overlapped{0}, done{0};
  std::atomic<int> running{0};
  for (int i = 0; i < 3; ++i) {
    Post([&] {
      threads_->HandOff();
      if (running.fetch_add(1) > 0) ++overlapped;
      std::this_thread::sleep_for(5ms);
      {
        std::lock_guard<std::mutex> l(mu);
        ran_on.insert(std::this_thread::get_id());
      }
      running.fetch_sub(1);
      ++done;
    });
  }
  for (int i = 0; i < 500 && done.load() < 3; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(done.load(), 3);
  EXPECT_EQ(overlapped.load(), 0);  // one after the other
  EXPECT_EQ(ran_on.size(), 1u);     // on the leader's thread
}

TEST_F(RpcThreadsTest, AtMostMaxThreadsAndEventsWaitForAFreeOne) {
  StartPool({.spin = 0us, .max_threads = 2, .takeover_after = 1ms});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};
  for (int i = 0; i < 3; ++i) {
    Post([&, released] {
      threads_->HandOff();
      ++started;
      released.wait_for(10s);
    });
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(started.load(), 2);  // two threads, both in handlers: the third waits
  EXPECT_LE(threads_->threads(), 2);
  release.set_value();
  for (int i = 0; i < 500 && started.load() < 3; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(started.load(), 3);
}

TEST(RunningCallsTest, RefusesBeyondTheLimitAndWaitsForTheLast) {
  RunningCalls calls(2);
  EXPECT_TRUE(calls.Enter());
  EXPECT_TRUE(calls.Enter());
  EXPECT_FALSE(calls.Enter());
  calls.Exit();
  calls.Exit();
  std::atomic<bool> idle{false};
  std::thread waiter([&] {
    calls.WaitIdle();
    idle = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(idle.load());
  calls.Exit();
  waiter.join();
  EXPECT_TRUE(idle.load());
  RunningCalls unlimited(0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(unlimited.Enter());
}

}  // namespace
}  // namespace micromongo::service
