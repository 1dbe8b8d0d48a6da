#pragma once

// The stages of a $text plan (planner/text_plan.h): TEXT_OR sums the scores of its
// children's text index entries per record, then fetches each record once and applies the
// rest of the query's filter; TEXT_MATCH keeps the documents that match the text query's
// phrases, negations and case- or diacritic-sensitive terms. Results carry their score.

#include <memory>
#include <vector>

#include "exec/plan_stage.h"

namespace micromongo::exec {

std::unique_ptr<PlanStage> MakeTextOrStage(const planner::PlanNode& node, const ExecContext& ctx,
                                           std::vector<std::unique_ptr<PlanStage>> children);
std::unique_ptr<PlanStage> MakeTextMatchStage(const planner::PlanNode& node, std::unique_ptr<PlanStage> child);

}  // namespace micromongo::exec
