#pragma once

// The running pieces of an aggregation pipeline: rows and the stages that pull them.
//
// Execution is pull-based: the consumer asks the last stage for its next row, which asks
// its input, down to the source (a collection read, $documents, ...). Rows are BSON bytes,
// so documents read from storage flow through $match, $project and the like without being
// decoded into trees, and a cursor's first batch leaves before the source is exhausted
// unless a blocking stage ($sort, $group, ...) needs all of its input.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "pipeline/expression.h"

namespace micromongo::pipeline {

// One document in flight and the metadata stages attached to it ({$meta: ...}).
struct Row {
  std::string doc;  // BSON
  std::shared_ptr<const DocumentMeta> meta;  // null: none

  bson::DocView view() const { return bson::DocView(doc); }
};

class Stage {
 public:
  virtual ~Stage() = default;
  // The next row into *out; false at the end (and on every later call).
  virtual absl::StatusOr<bool> Next(Row* out) = 0;
};

using StagePtr = std::unique_ptr<Stage>;

// A row as one byte string and back (for stages that spill rows or sort them with their
// metadata).
std::string PackRow(Row row);
absl::Status UnpackRow(std::string packed, Row* row);

}  // namespace micromongo::pipeline
