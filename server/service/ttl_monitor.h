#pragma once

// MongoDB's TTL monitor: documents whose indexed date (or earliest date of an array) is
// older than their TTL index's expireAfterSeconds are deleted in the background. Deletes
// go through the same path as a user's delete (index entries, chunked commits, snapshot
// readers never blocked). Until a pass removes them, expired documents stay visible, as
// in MongoDB.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "storage/engine.h"

namespace micromongo::service {

// One pass over every TTL index of every database; returns the documents deleted.
absl::StatusOr<int64_t> ExpireDocuments(storage::Engine* engine);

// Runs ExpireDocuments every `interval` (MongoDB's ttlMonitorSleepSecs, 60 by default) on
// a thread of its own until destroyed.
class TtlMonitor {
 public:
  TtlMonitor(storage::Engine* engine, std::chrono::seconds interval, bool log);
  ~TtlMonitor();
  TtlMonitor(const TtlMonitor&) = delete;
  TtlMonitor& operator=(const TtlMonitor&) = delete;

 private:
  storage::Engine* engine_;
  std::chrono::seconds interval_;
  bool log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace micromongo::service
