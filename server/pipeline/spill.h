#pragma once

// Spilling to disk for the blocking stages that run with allowDiskUse.
//
// A SpillFile is a temporary file under the pipeline's temporary directory (inside the data
// directory), unlinked as soon as it is created: its space returns when the stage that owns it
// ends, or when the process dies (the server also empties the directory at startup). It holds sorted runs of (key, value) records; a
// RunReader reads one run back sequentially through its own buffer, so that a k-way merge
// keeps only one buffer per run in memory.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace micromongo::pipeline {

class SpillFile {
 public:
  // Creates a new file in `dir` (created if needed). Errors: 1 (InternalError) when the
  // directory is unusable.
  static absl::StatusOr<std::unique_ptr<SpillFile>> Create(const std::string& dir);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends one record to the current run.
  absl::Status Append(std::string_view key, std::string_view value);
  // Ends the current run; returns its index.
  absl::StatusOr<size_t> EndRun();
  size_t runs() const { return runs_.size(); }
  uint64_t bytes_written() const { return offset_ + buffer_.size(); }

  class RunReader {
   public:
    // The next record; false at the end of the run.
    absl::StatusOr<bool> Next(std::string* key, std::string* value);

   private:
    friend class SpillFile;
    bool Fill(size_t need);
    int fd_ = -1;
    uint64_t pos_ = 0, end_ = 0;
    std::string buf_;
    size_t buf_pos_ = 0;
  };
  // A reader of run `index` (the file must outlive it).
  RunReader Read(size_t index) const;

 private:
  SpillFile() = default;
  absl::Status Flush();

  int fd_ = -1;
  std::string path_;
  std::string buffer_;
  uint64_t offset_ = 0;      // bytes flushed
  uint64_t run_start_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // [begin, end)
};

}  // namespace micromongo::pipeline
