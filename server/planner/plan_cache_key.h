#pragma once

// The shape of a query, as MongoDB's plan cache keys it: the filter's structure (paths,
// operators, the type of each operand but not its value), the sort and the projection.
// Queries of one shape get the same candidate plans, so the winner of one trial serves
// them all.

#include <string>
#include <vector>

#include "query/match_expression.h"

namespace micromongo::planner {

std::string QueryShape(const query::MatchExpression* filter, const std::string& sort_bson,
                       const std::vector<std::string>* projection_fields, bool projection_includes_id);

// A solution without its bounds: which indexes it scans, in which direction, under which
// stages ("FETCH(IXSCAN a_1 -1)"). The cached form of a winning plan.
struct QuerySolution;
std::string SolutionSignature(const QuerySolution& s);

}  // namespace micromongo::planner
