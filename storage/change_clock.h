#pragma once

// Cluster times for change events: MongoDB Timestamps (seconds since the epoch << 32 |
// increment), one per event, ordering every write of a worker across its databases.
//
// Commits take their times before they write and may finish out of order (RocksDB commits
// concurrent batches in parallel); a reader must never read past a time whose commit is
// still running, or it would skip that event for good. Visible() is that bound: every time
// at or below it is committed or abandoned (its commit failed and wrote nothing). It is
// MongoDB's "all durable" timestamp for oplog visibility. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

namespace micromongo::storage {

class ChangeClock {
 public:
  // Reserves `n` (> 0) consecutive times for one commit and marks them in flight; returns
  // the first. Times grow with the wall clock's seconds and never go back.
  uint64_t Reserve(uint32_t n);
  // The commit that reserved `first` finished (written or failed).
  void Release(uint64_t first);
  uint64_t Visible() const;
  // Never hands out a time at or below `ts` (the last time a database holds, as it opens).
  void Advance(uint64_t ts);
  // Waits until Visible() passes `ts`, at most `timeout`; returns Visible().
  uint64_t WaitPast(uint64_t ts, std::chrono::milliseconds timeout) const;

 private:
  uint64_t VisibleLocked() const { return in_flight_.empty() ? last_ : *in_flight_.begin() - 1; }
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t last_ = 0;
  std::set<uint64_t> in_flight_;  // first times of commits not yet finished
};

}  // namespace micromongo::storage
