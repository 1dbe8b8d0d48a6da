#pragma once

// Runs a query's plan: the only candidate, or the winner of a trial among several
// (MongoDB's multi-planner). Each candidate works in turn until one has produced a
// batch of results or finished, or every one has spent its budget; the most productive
// (results per unit of work, with small bonuses for not fetching and for giving the sort)
// wins and goes on from where its trial stopped, its trial results first.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/plan_stage.h"
#include "planner/planner.h"
#include "util/op_debug.h"

namespace micromongo::exec {

// Reports what it examined to the request that uses it (util/op_debug.h).
class PlanExecutor : public OpStatsSource {
 public:
  ~PlanExecutor() override { DetachFromCurrentOp(this); }
  void ReportStats(OpDebug* op, bool with_summary) override;

  // `input` owns the index entries the solutions point at. `results_target`: the results
  // after which a trial ends (MongoDB's 101, or the query's skip + limit). `cache_key`:
  // where the winner of several solutions is cached (empty: not cached); `cache_note`
  // makes the entry's description ($planCacheStats), called only when a trial's winner is
  // cached, not on every use of a cached plan.
  static absl::StatusOr<std::unique_ptr<PlanExecutor>> Make(ExecContext ctx,
                                                            std::shared_ptr<const planner::PlannerInput> input,
                                                            std::vector<planner::QuerySolution> solutions,
                                                            int64_t results_target, bool sort_requested,
                                                            std::string cache_key = "",
                                                            std::function<std::string()> cache_note = nullptr);

  // The next result: its record key and document, and with `key` the index key it was found
  // by (find's returnKey: BSON {field: value} per key field of the index; {_id: ...} by
  // IDHACK; {} from a collection scan). False at the end.
  absl::StatusOr<bool> Next(std::string* record_key, std::string* doc, std::string* key = nullptr);

  // The $text score of the result Next() returned last (nullopt: not a text query).
  std::optional<double> text_score() const { return text_score_; }
  // The $near distance of the result Next() returned last (nullopt: not a $near query).
  std::optional<double> geo_distance() const { return geo_distance_; }
  const planner::QuerySolution& solution() const { return solutions_[winner_]; }
  bool provides_sort() const { return solution().provides_sort; }
  bool covered() const { return solution().covered; }
  // The winning plan's explain tree, and the others'.
  Document WinningPlan(bool stats) const { return stages_[winner_]->Explain(stats); }
  std::vector<Document> RejectedPlans(bool stats) const;
  int64_t keys_examined() const { return stages_[winner_]->TotalKeysExamined(); }
  int64_t docs_examined() const { return stages_[winner_]->TotalDocsExamined(); }
  // Whether the plan came from the plan cache (no trial ran).
  bool from_cache() const { return from_cache_; }

 private:
  PlanExecutor() = default;
  absl::Status Trial(int64_t results_target, bool sort_requested);
  std::string KeyDocument(const Member& m) const;

  ExecContext ctx_;
  std::shared_ptr<const planner::PlannerInput> input_;
  std::vector<planner::QuerySolution> solutions_;
  std::vector<std::unique_ptr<PlanStage>> stages_;
  size_t winner_ = 0;
  std::deque<Member> buffered_;
  std::string cache_key_;
  bool from_cache_ = false;
  int64_t cached_works_ = 0;
  int64_t results_target_ = 101;
  int64_t returned_ = 0;
  // Owned here for ExecContext::batch_fetches (the executor's address is stable).
  bool batch_fetches_ = false;
  bool eof_ = false;
  Member member_;
  std::optional<double> text_score_;
  std::optional<double> geo_distance_;
  int64_t reported_keys_ = 0;
  int64_t reported_docs_ = 0;
};

// MongoDB's planSummary of an explain tree: its access stages, "COLLSCAN",
// "IXSCAN { a: 1, b: -1 }", "IDHACK", comma-separated.
std::string PlanSummary(const Document& plan);

}  // namespace micromongo::exec
