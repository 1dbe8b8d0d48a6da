#pragma once

// An exclusive, advisory lock on a database directory held for the life of the object, so
// that one directory belongs to one worker process at a time. The holder's pid is written
// into the lock file so that a second worker can say who holds it.

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace micromongo::storage {

class DirLock {
 public:
  // Fails with code 46 (LockBusy) naming `what` and the holder's pid if another process
  // holds the lock.
  static absl::StatusOr<std::unique_ptr<DirLock>> Acquire(const std::string& dir,
                                                          const std::string& what);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace micromongo::storage
