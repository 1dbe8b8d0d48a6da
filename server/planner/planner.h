#pragma once

// The query planner: the candidate solutions for a filter, a sort and a projection over a
// collection's indexes (MongoDB's QueryPlanner). Rules, as MongoDB's:
// - An index is a candidate when its first key field is bounded by the filter, or when it
//   gives the requested sort. Bounds come from the AND of top-level predicates, one field
//   after another (equality prefix, then ranges); on a multikey field two predicates are
//   not intersected unless they are one $elemMatch's, and fields under a shared multikey
//   path are not compounded.
// - A top-level $or gets an OR of one index plan per branch when every branch has one.
// - A sort is given by an index whose fields, after its equality-bound prefix, are the
//   sort's fields in the same or the opposite directions (not on multikey or hashed
//   fields); a prefix of several points ($in) is merged (SORT_MERGE).
// - A plan is covered when the filter, projection and sort touch only key fields of a
//   non-multikey index whose bounds exclude missing fields; it fetches nothing.
// - Sparse indexes only when the filter excludes documents missing every key; partial
//   indexes only when the filter implies their partialFilterExpression; hidden never;
//   string bounds only under the query's collation.
// - A FETCH (or covered scan) applies only the top-level predicates its bounds do not
//   answer exactly: equality, ranges and $in of plain scalars on non-multikey ascending or
//   descending key fields are decided by the scan itself.
// - The _id equality gets IDHACK; a collection scan only when no index plan exists.
// - distinct on the leading field of a suitable index gets a DISTINCT_SCAN.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "planner/query_solution.h"
#include "query/matcher.h"

namespace micromongo::planner {

struct PlannerInput {
  const query::Matcher* filter = nullptr;
  std::string sort;  // BSON sort pattern; empty: none. {$natural: ±1} sorts by scan order.
  // The fields an inclusion projection returns, when every output is a plain field of the
  // document (nullopt: not coverable); whether it returns _id.
  std::optional<std::vector<std::string>> projection_fields;
  bool projection_includes_id = true;
  std::vector<IndexEntry> indexes;  // the collection's, hidden ones included
  // False for a collection whose records are not keyed by _id (time series): no IDHACK.
  bool has_id_index = true;
  // hint: an index (by its position in `indexes`), or {$natural: ±1}.
  std::optional<size_t> hint_index;
  int hint_natural = 0;
  // distinct's key: a DISTINCT_SCAN is planned when an index leads with it, is not
  // multikey on it, holds every document (not partial) and the filter reads only that field
  // (then the only solution). Its output has null for documents missing the field too:
  // the caller tells them apart.
  std::string distinct_field;
  // find's min/max as key strings of the hinted index (after its prefix, descending fields
  // inverted): the scan covers [key_min, key_max); an empty key_max is the index's end.
  bool key_range = false;
  std::string key_min, key_max;
  // count's: a covered scan whose bounds answer the whole filter, over one interval per key
  // field, becomes a COUNT_SCAN (results without documents).
  bool count = false;
};

// The candidate solutions, at least one. Callers keep `input` (and its indexes) alive as
// long as the solutions.
std::vector<QuerySolution> Plan(const PlannerInput& input);

}  // namespace micromongo::planner
