#pragma once

// GEO_NEAR_2DSPHERE: $near / $nearSphere over a 2dsphere index, in order of distance.
//
// It searches rings around the point, each sized from the density the last ones found
// (the first narrow, as data is clustered rather than spread over the earth): the index
// entries of the cells covering the ring's outer cap, less the cells inside the caps
// earlier rings read (2dsphere), are read, each new record fetched
// once and measured, those inside the ring kept (farther ones are remembered for later
// rings), then the ring's records filtered and returned nearest first. It ends past
// $maxDistance or when the caps cover the sphere.

#include <memory>

#include "exec/plan_stage.h"

namespace micromongo::exec {

std::unique_ptr<PlanStage> MakeGeoNearStage(const planner::PlanNode& node, const ExecContext& ctx);

}  // namespace micromongo::exec
