#pragma once

// The aggregate and find commands, free of gRPC: parsing their options into a pipeline and
// a cursor over it. Every read path (find, aggregate, count and distinct on views) runs
// through here and the pipeline module.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "query/matcher.h"
#include "query/projection.h"
#include "service/cursor.h"
#include "service/query_planning.h"
#include "storage/engine.h"
#include "util/deadline.h"

namespace micromongo::service {

struct AggregateCommand {
  std::string db;
  std::string collection;  // empty: a database-level aggregation ($documents first)
  std::vector<Document> pipeline;
  std::optional<Document> let;
  std::shared_ptr<const bson::Collator> collator;
  Deadline deadline;
  bool allow_disk_use = false;
  bool bypass_validation = false;
  QueryHint hint;  // for the collection read
};

// The aggregation's cursor. A pipeline ending in $out or $merge has run to completion when
// this returns (its cursor is empty). Errors: the pipeline's parse errors, 73 for a
// database-level aggregation without a first stage that makes documents.
absl::StatusOr<std::unique_ptr<Cursor>> OpenAggregate(storage::Engine* engine, const AggregateCommand& command);

// explain of the aggregation: {stages: [{$cursor: {queryPlanner: {...}}}, <stage>, ...]}.
// With `execution_stats`, the pipeline runs (a pipeline ending in $out or $merge is refused
// then) and $cursor also holds the read's executionStats.
absl::StatusOr<Document> ExplainAggregate(storage::Engine* engine, const AggregateCommand& command,
                                          bool execution_stats = false);

// Runs the aggregation to its end and returns the documents (reads of views by count and
// distinct).
absl::StatusOr<std::vector<std::string>> AggregateAll(storage::Engine* engine, const AggregateCommand& command);

struct FindCommand {
  std::string db, collection;
  std::shared_ptr<const query::Matcher> filter;  // with the request's let and collation
  std::optional<Document> sort;
  std::shared_ptr<const query::Projection> projection;  // null: none
  int64_t skip = 0;
  int64_t limit = 0;  // 0: none
  Deadline deadline;
  bool allow_disk_use = false;
  QueryHint hint;
  std::string min, max;  // BSON; empty: none (QueryRequest::min)
  // Each result is the index key it was found by instead of the document ({} without an
  // index); the projection is not applied.
  bool return_key = false;
  bool show_record_id = false;  // each result gets "$recordId" (see ReadRequest)
  bool projection_reads_text_score = false;  // the projection has {$meta: "textScore"}
};

// Whether `v` holds {$meta: "textScore"} anywhere: what only a $text query can supply
// (error 40218 otherwise, as MongoDB's dependency analysis gives).
bool ReadsTextScore(const Value& v);

// A find's cursor: the filter through find's access paths, then sort (top-k with a limit),
// skip, limit and projection.
absl::StatusOr<std::unique_ptr<Cursor>> OpenFind(storage::Engine* engine, const FindCommand& command);

}  // namespace micromongo::service
