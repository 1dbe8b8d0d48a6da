#include "common/adaptive_spin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace micromongo {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A ready() that turns true on its n-th call (never when n is 0), counting calls.
struct Input {
  int ready_at = 0;
  int calls = 0;
  bool operator()() { return ++calls == ready_at || (ready_at > 0 && calls > ready_at); }
};

TEST(AdaptiveSpin, ZeroBudgetAsksOnceAndNeverSpins) {
  AdaptiveSpin spin(microseconds(0));
  Input never;
  EXPECT_FALSE(spin.Wait(std::ref(never)));
  EXPECT_EQ(never.calls, 1);
  Input now{.ready_at = 1};
  EXPECT_TRUE(spin.Wait(std::ref(now)));
  EXPECT_EQ(spin.credit(), 0);
}

TEST(AdaptiveSpin, InputArrivingWithinTheBudgetEndsTheSpinAndEarnsCredit) {
  AdaptiveSpin spin(microseconds(1'000'000));
  for (int i = 1; i <= 10; ++i) {
    Input later{.ready_at = 5};
    EXPECT_TRUE(spin.Wait(std::ref(later)));
    EXPECT_EQ(later.calls, 5);
    EXPECT_EQ(spin.credit(), std::min(i, 8)) << "credit is capped at 8";
  }
}

TEST(AdaptiveSpin, SpinsThatTimeOutStopTheSpinningUntilAReTryPaysOff) {
  AdaptiveSpin spin(microseconds(300));
  Input never;
  auto t0 = Clock::now();
  EXPECT_FALSE(spin.Wait(std::ref(never)));
  EXPECT_GE(Clock::now() - t0, microseconds(300)) << "spins for the whole budget";
  EXPECT_GT(never.calls, 1);
  EXPECT_EQ(spin.credit(), -1);
  // Without credit a wait asks once, for 63 waits; the 64th spins again.
  for (int i = 1; i < 64; ++i) {
    Input once;
    EXPECT_FALSE(spin.Wait(std::ref(once)));
    ASSERT_EQ(once.calls, 1) << "wait " << i;
  }
  Input later{.ready_at = 3};
  EXPECT_TRUE(spin.Wait(std::ref(later)));
  EXPECT_EQ(later.calls, 3);
  EXPECT_EQ(spin.credit(), 1) << "a re-try that pays off restores spinning at once";
}

TEST(AdaptiveSpin, CreditFallsAsFastAsItRises) {
  AdaptiveSpin spin(microseconds(100));
  for (int i = 0; i < 2; ++i) {
    Input later{.ready_at = 2};
    spin.Wait(std::ref(later));
  }
  ASSERT_EQ(spin.credit(), 2);
  for (int i = 0; i < 2; ++i) {
    Input never;
    spin.Wait(std::ref(never));
  }
  EXPECT_EQ(spin.credit(), 0) << "two misses undo two hits";
  Input still_spins{.ready_at = 2};
  EXPECT_TRUE(spin.Wait(std::ref(still_spins)));
  EXPECT_EQ(still_spins.calls, 2) << "credit 0 still spins";
}

// Half the waits end within the budget, half after it: the connection keeps spinning.
TEST(AdaptiveSpin, KeepsSpinningWhenHalfTheSpinsPayOff) {
  AdaptiveSpin spin(microseconds(100));
  for (int i = 0; i < 200; ++i) {
    Input input{.ready_at = i % 2 == 0 ? 2 : 0};
    spin.Wait(std::ref(input));
    ASSERT_GT(input.calls, 1) << "wait " << i << " did not spin";
  }
}

TEST(AdaptiveSpin, AtMostHalfTheCpusSpinAtOnce) {
  const int slots = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  std::atomic<bool> release{false};
  std::vector<std::thread> spinners;
  for (int i = 0; i < slots; ++i) {
    spinners.emplace_back([&] {
      AdaptiveSpin spin(microseconds(30'000'000));
      spin.Wait([&] { return release.load(); });
    });
  }
  while (AdaptiveSpin::spinning() < slots) std::this_thread::yield();
  AdaptiveSpin late(microseconds(1'000'000));
  Input never;
  EXPECT_FALSE(late.Wait(std::ref(never)));
  EXPECT_EQ(never.calls, 1) << "no slot free: asks once and does not spin";
  EXPECT_EQ(late.credit(), 0) << "a wait without a slot says nothing about the client";
  release = true;
  for (auto& t : spinners) t.join();
  EXPECT_EQ(AdaptiveSpin::spinning(), 0);
}

}  // namespace
}  // namespace micromongo
