#pragma once

// MongoDB's TTL monitor: documents whose indexed date (or earliest date of an array) is
// older than their TTL index's expireAfterSeconds are deleted in the background. Deletes
// go through the same path as a user's delete (index entries, chunked commits, snapshot
// readers never blocked). Until a pass removes them, expired documents stay visible, as
// in MongoDB.

#include <chrono>
#include <cstdint>

#include "absl/status/statusor.h"
#include "storage/engine.h"
#include "util/periodic.h"

namespace micromongo::service {

// One pass over every TTL index of every database; returns the documents deleted.
absl::StatusOr<int64_t> ExpireDocuments(storage::Engine* engine);

// Runs ExpireDocuments every `interval` (MongoDB's ttlMonitorSleepSecs, 60 by default) on
// a thread of its own until destroyed.
class TtlMonitor {
 public:
  TtlMonitor(storage::Engine* engine, std::chrono::seconds interval, bool log);

 private:
  PeriodicTask task_;
};

}  // namespace micromongo::service
