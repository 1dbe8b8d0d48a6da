#pragma once

// The plan of a query with $near or $nearSphere, which MongoDB answers only through a geo
// index: GEO_NEAR_2DSPHERE (or GEO_NEAR_2D) over the first geo index on the $near's path
// that serves its point (2dsphere for GeoJSON, 2d or 2dsphere for legacy pairs), its other
// key fields bounded by the query's predicates on them.

#include "absl/status/statusor.h"
#include "planner/planner.h"

namespace micromongo::planner {

// Errors: 291 (NoQueryExecutionPlans) without such an index.
absl::StatusOr<QuerySolution> PlanNear(const PlannerInput& input);

}  // namespace micromongo::planner
