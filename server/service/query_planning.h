#pragma once

// A query's plan over a collection, for every read path (find, aggregate's first stage,
// count, distinct, update, delete, findAndModify): the collection's indexes as the planner
// sees them (the _id index included), the hint resolved, the candidates raced.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "exec/plan_executor.h"
#include "index/index_key.h"
#include "query/matcher.h"
#include "storage/database.h"
#include "util/deadline.h"

namespace micromongo::service {

struct QueryHint {
  std::string index_name;   // by name
  std::string key_pattern;  // or by key pattern (BSON)
  int natural = 0;          // or {$natural: ±1}
  bool empty() const { return index_name.empty() && key_pattern.empty() && natural == 0; }
};

struct QueryRequest {
  std::shared_ptr<const query::Matcher> filter;  // required
  std::string sort;                              // BSON sort pattern; empty: none
  // An inclusion projection's plain fields (nullopt: not coverable) and whether it keeps _id.
  std::optional<std::vector<std::string>> projection_fields;
  bool projection_includes_id = true;
  QueryHint hint;
  int64_t results_target = 101;  // a trial ends after this many results
  // Whether the plan cache may answer (explain always races every candidate, as MongoDB's).
  bool use_plan_cache = true;
  // distinct's key (planner::PlannerInput::distinct_field); empty for other reads.
  std::string distinct_field;
  // find's min and max (BSON documents; empty: not given): the hinted index's keys from min
  // (inclusive) to max (exclusive).
  std::string min, max;
  // count's: results need no document (planner::PlannerInput::count); give an empty
  // projection_fields too, so that a covering index answers.
  bool count = false;
};

// Plans and prepares `request` over `coll` of `db`. Errors: 2 (BadValue) for a hint that
// names no usable index; 51173, 51174, 51175 for min/max without a hint, not matching the
// hinted index's key pattern, or not in order; the filter's evaluation errors.
absl::StatusOr<std::unique_ptr<exec::PlanExecutor>> PlanQuery(std::shared_ptr<storage::Database> db,
                                                             std::shared_ptr<const storage::Collection> coll,
                                                             const QueryRequest& request, const Deadline* deadline);

// The prefix of the plan cache keys of one collection in its current index state.
std::string PlanCachePrefix(const storage::Database& db, const storage::Collection& coll);

// The parsed form of a stored index document, shared by every query that uses it.
std::shared_ptr<const index::IndexSpec> ParsedIndexSpec(std::string_view spec_bson);

// A hint as find and aggregate take it: an index name (string), a key pattern, or
// {$natural: ±1}. Errors: 2 (BadValue) for other values.
absl::StatusOr<QueryHint> ParseHint(const bson::ValueView& hint);

}  // namespace micromongo::service
