#pragma once

// Point-in-time reads outside transactions: readConcern {level: "snapshot"} on find,
// aggregate and distinct, and {atClusterTime} to read again at the time a first snapshot
// read answered (the drivers' snapshot sessions). A view is a storage::Transaction that
// only reads: the snapshot of the command's database taken at its cluster time (other
// databases' at their first read through it). Views are kept for `window` (MongoDB's
// minSnapshotHistoryWindowInSeconds, 300), holding their RocksDB snapshots; a time no
// longer kept is SnapshotTooOld (239). Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/engine.h"
#include "storage/transaction.h"

namespace micromongo::service {

class SnapshotHistory {
 public:
  explicit SnapshotHistory(storage::Engine* engine, std::chrono::seconds window = std::chrono::seconds(300));

  struct View {
    std::shared_ptr<storage::Transaction> txn;
    uint64_t time = 0;  // the cluster time it reads at
  };
  // A view as of now, with `db`'s snapshot taken at its time.
  absl::StatusOr<View> Now(std::string_view db);
  // The view at `time`. Errors: 239 SnapshotTooOld when it is not kept (too old, or no
  // snapshot read ever answered that time and writes came since).
  absl::StatusOr<View> At(uint64_t time, std::string_view db);

 private:
  void PruneLocked(std::chrono::steady_clock::time_point now);
  storage::Engine* engine_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  struct Entry {
    std::shared_ptr<storage::Transaction> txn;
    std::chrono::steady_clock::time_point taken;
  };
  std::map<uint64_t, Entry> views_;  // by cluster time
};

}  // namespace micromongo::service
