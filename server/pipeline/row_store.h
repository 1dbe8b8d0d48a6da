#pragma once

// Rows a stage holds to read again ($facet's input for each facet, a $setWindowFields
// partition): in memory while they fit the pipeline's limit; past it, with allowDiskUse, in
// an unlinked spill file (error 292 without).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/context.h"
#include "pipeline/spill.h"
#include "pipeline/stage.h"

namespace micromongo::pipeline {

class RowStore {
 public:
  // `stage` names the stage in errors.
  RowStore(ExecContext* ctx, std::string stage) : ctx_(ctx), stage_(std::move(stage)) {}

  absl::Status Add(Row row);
  size_t size() const { return count_; }
  bool spilled() const { return file_ != nullptr; }

  // Reads the rows in the order added; any number of readers, one after another or at once,
  // once adding is over.
  class Reader {
   public:
    absl::StatusOr<bool> Next(Row* out);

   private:
    friend class RowStore;
    const RowStore* store_ = nullptr;
    size_t next_ = 0;
    std::optional<SpillFile::RunReader> disk_;
  };
  absl::StatusOr<Reader> Read();

 private:
  ExecContext* ctx_;
  std::string stage_;
  std::vector<std::string> memory_;  // packed rows
  int64_t bytes_ = 0;
  size_t count_ = 0;
  std::unique_ptr<SpillFile> file_;
  bool sealed_ = false;
};

// A stage yielding a store's rows (the store must outlive it).
absl::StatusOr<StagePtr> ReplayRows(RowStore* store);

}  // namespace micromongo::pipeline
