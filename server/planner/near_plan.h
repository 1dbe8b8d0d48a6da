#pragma once

// The plan of a query with $near or $nearSphere, which MongoDB answers only through a geo
// index: GEO_NEAR_2DSPHERE over the first 2dsphere index on the $near's path, its other
// key fields bounded by the query's predicates on them.

#include "absl/status/statusor.h"
#include "planner/planner.h"

namespace micromongo::planner {

// Errors: 291 (NoQueryExecutionPlans) without such an index (and for a flat $near, which
// needs a 2d index).
absl::StatusOr<QuerySolution> PlanNear(const PlannerInput& input);

}  // namespace micromongo::planner
