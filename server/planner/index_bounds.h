#pragma once

// Index bounds of single predicates: the key values of one index field that documents
// matching a predicate can have (MongoDB's IndexBoundsBuilder). Bounds are sound, never
// exact promises: a scan visits every key inside them and the filter decides.

#include <optional>

#include "document/compare.h"
#include "index/index_key.h"
#include "planner/interval.h"
#include "query/match_expression.h"

namespace micromongo::planner {

// Whether the index's strings are ordered as the query compares them (same collation, or
// both binary).
bool SameCollation(const bson::Collator* index, const bson::Collator* query);

// The bounds `pred` (a leaf, or $not of one, whose path is the key field's path) puts on
// key field `field` of `spec`, or nullopt if it bounds nothing there. Strings are bounded
// only when `collation_matches`; hashed fields only by equality.
std::optional<IntervalList> PredicateBounds(const query::MatchExpression& pred, const index::IndexSpec& spec,
                                            size_t field, bool collation_matches);

// Inclusive int64 key ranges (a 2dsphere field's S2 cells) as intervals of key strings.
IntervalList CellIntervals(const std::vector<std::pair<int64_t, int64_t>>& ranges);

// The key string of `v` as key field `field` of `spec` stores it (ascending).
std::string FieldKey(const bson::ValueView& v, const index::IndexSpec& spec, size_t field);

}  // namespace micromongo::planner
