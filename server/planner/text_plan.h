#pragma once

// The plan of a query with $text. MongoDB answers $text only through the collection's
// text index, so it is the only plan: TEXT_MATCH over TEXT_OR over one IXSCAN per search
// term (a compound text index's prefix fields bounded by the query's equalities on them),
// the rest of the filter applied by TEXT_OR to each fetched document.

#include "absl/status/statusor.h"
#include "planner/planner.h"

namespace micromongo::planner {

// $text in an $or branch (the $or at the top or in a top-level $and) plans as a FETCH of the
// whole filter over an OR of that text plan and the best index plan of each other branch.
// The plan binds the filter's $text node to the index (query::TextMatch::BindIndex).
// Errors: 27 (IndexNotFound: no text index, or only a hidden one), 291 (no plan: an $or
// branch without an index, or a prefix field of the text index without an equality), 17262
// (a $language text search does not support); the residual filter's parse errors.
absl::StatusOr<QuerySolution> PlanText(const PlannerInput& input);

}  // namespace micromongo::planner
