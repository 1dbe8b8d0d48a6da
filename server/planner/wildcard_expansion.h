#pragma once

// How the planner uses a wildcard index (MongoDB's planner_wildcard_helpers): as one
// ordinary two-field index {"$_path": 1, <path>: 1} per path of the query that the index
// covers, whose first field is bounded to that path. The index holds only documents that
// have the path, so a path's predicates may use it only when none of them matches a
// missing field, and only for values it keys as MongoDB's bounds expect (scalars: not
// documents, arrays, null or undefined).

#include <string>
#include <vector>

#include "planner/query_solution.h"
#include "query/match_expression.h"

namespace micromongo::planner {

// The per-path entries of `wildcard` (an entry whose spec is a wildcard index) for the
// top-level predicates of `filter` and the fields of `sort` (BSON; empty: none). Paths
// with numeric components are left out (an array position is not part of a key's path).
std::vector<IndexEntry> ExpandWildcard(const IndexEntry& wildcard, const query::MatchExpression* filter,
                                       const std::string& sort);

// Whether one predicate can be answered from a wildcard index's keys of its path.
bool WildcardCompatible(const query::MatchExpression& e);

}  // namespace micromongo::planner
