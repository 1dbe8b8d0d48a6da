#pragma once

// Orders (key, value) records by the bytes of their keys (sort keys from SortKeyGenerator):
// in memory while they fit the pipeline's limit; past it, as sorted runs spilled to a file
// and merged back (with allowDiskUse) or error 292 (without). With top_k > 0 only the k
// smallest records are kept, in bounded memory ($sort followed by $limit).
//
// Records with equal keys come out in no particular order: callers that want a stable
// order append a sequence number to the key.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/context.h"
#include "pipeline/spill.h"

namespace micromongo::pipeline {

class Sorter {
 public:
  // `stage` names the stage in errors.
  Sorter(ExecContext* ctx, std::string stage, int64_t top_k = 0);

  absl::Status Add(std::string key, std::string value);
  // Call once after the last Add.
  absl::Status Finish();
  // The records in key order; false at the end.
  absl::StatusOr<bool> Next(std::string* key, std::string* value);

  // Whether records went to disk.
  bool spilled() const { return spill_ != nullptr; }

 private:
  using Record = std::pair<std::string, std::string>;
  static size_t Cost(const Record& r) { return r.first.capacity() + r.second.capacity() + sizeof(Record); }
  absl::Status SpillRun();

  ExecContext* ctx_;
  std::string stage_;
  int64_t top_k_;
  std::vector<Record> records_;  // a max-heap by key when top_k_ > 0
  int64_t memory_ = 0;
  size_t next_ = 0;
  bool finished_ = false;

  std::unique_ptr<SpillFile> spill_;
  struct Merge {
    std::vector<SpillFile::RunReader> readers;
    std::vector<Record> heads;
    std::vector<size_t> heap;  // indices into heads, min-heap by key
  };
  std::unique_ptr<Merge> merge_;
};

}  // namespace micromongo::pipeline
