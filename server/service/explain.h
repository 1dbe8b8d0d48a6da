#pragma once

// explain for the operations that read a collection (find, count, distinct, update,
// delete, findAndModify), free of gRPC: the planner's winning and rejected plans as
// MongoDB's stage trees, with the stages the operation adds on top (SORT, SKIP, LIMIT,
// PROJECTION_*, COUNT, UPDATE, DELETE) and, at the higher verbosities, execution
// statistics of a run that reads but writes nothing. aggregate's explain is in
// aggregation.h.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "query/projection.h"
#include "service/query_planning.h"
#include "storage/engine.h"
#include "util/deadline.h"

namespace micromongo::service {

enum class ExplainVerbosity { kQueryPlanner, kExecutionStats, kAllPlansExecution };

// "queryPlanner" (or empty), "executionStats", "allPlansExecution"; else 2 (BadValue).
absl::StatusOr<ExplainVerbosity> ParseVerbosity(std::string_view verbosity);

struct ExplainedRead {
  enum class Op { kFind, kCount, kDistinct, kUpdate, kDelete };
  Op op = Op::kFind;
  std::string db, collection;
  QueryRequest query;            // filter, sort, projection fields, hint
  std::optional<Document> sort;  // the operation's sort (a SORT stage unless an index gives it)
  std::optional<Document> projection;
  bool projection_covered_shape = false;  // the projection only includes plain fields
  int64_t skip = 0, limit = 0;   // 0: none
  bool multi = true;             // update/delete: every match, or the first
  Document command;              // the operation as asked, shown as explain's "command"
  Deadline deadline;
};

absl::StatusOr<Document> ExplainRead(storage::Engine* engine, const ExplainedRead& read, ExplainVerbosity verbosity);

}  // namespace micromongo::service
