#pragma once

// A server-side cursor: the rest of a find's or an aggregation's results, handed out in
// batches by GetMore. Not thread-safe; the cursor manager lends a cursor to one request at
// a time.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "util/deadline.h"

namespace micromongo::service {

class Cursor {
 public:
  virtual ~Cursor() = default;
  // Appends up to `max_docs` documents (0: no count limit) or about `max_bytes`, whichever
  // comes first. After an error the cursor is exhausted.
  virtual absl::Status NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out) = 0;
  // True once every document has been handed out (known with the last batch).
  virtual bool exhausted() const = 0;
  // A GetMore's own time limit replaces the original one.
  virtual void set_deadline(const Deadline& deadline) = 0;
  // A change stream's postBatchResumeToken after the last batch (BSON); empty for others.
  virtual std::string ResumeToken() const { return {}; }
};

// Bounds how long any cursor's getMore waits for new data (change streams, awaitData
// tailable cursors) in this process: fuzzing, where an input whose getMore waits a second
// stalls the run. No bound by default.
void SetAwaitLimitForTesting(std::chrono::milliseconds limit);
// `wait`, within that bound.
std::chrono::milliseconds BoundedAwait(std::chrono::milliseconds wait);

}  // namespace micromongo::service
