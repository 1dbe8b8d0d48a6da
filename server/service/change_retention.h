#pragma once

// Keeps the change logs (storage/FORMAT.md) within their retention: every `interval`, each
// open database's log loses the records older than `max_age` and then its oldest records
// while it holds more than `max_bytes`. A change stream that falls behind the trimmed point
// fails with 286 (ChangeStreamHistoryLost) instead of skipping events.

#include <chrono>
#include <cstdint>

#include "storage/engine.h"
#include "util/periodic.h"

namespace micromongo::service {

struct ChangeRetention {
  uint64_t max_bytes = uint64_t{1} << 30;         // per database
  std::chrono::seconds max_age{24 * 60 * 60};
  std::chrono::seconds interval{10};
};

// One pass over the open databases.
void EnforceChangeRetention(storage::Engine* engine, const ChangeRetention& retention);

class ChangeRetentionThread {
 public:
  ChangeRetentionThread(storage::Engine* engine, ChangeRetention retention)
      : task_(retention.interval, [engine, retention] { EnforceChangeRetention(engine, retention); }) {}

 private:
  PeriodicTask task_;
};

}  // namespace micromongo::service
