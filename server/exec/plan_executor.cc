#include "exec/plan_executor.h"

#include <algorithm>

namespace micromongo::exec {

absl::StatusOr<std::unique_ptr<PlanExecutor>> PlanExecutor::Make(ExecContext ctx,
                                                                 std::shared_ptr<const planner::PlannerInput> input,
                                                                 std::vector<planner::QuerySolution> solutions,
                                                                 int64_t results_target, bool sort_requested) {
  std::unique_ptr<PlanExecutor> e(new PlanExecutor());
  e->ctx_ = std::move(ctx);
  e->input_ = std::move(input);
  e->solutions_ = std::move(solutions);
  for (const auto& s : e->solutions_) {
    auto stage = BuildStages(*s.root, e->ctx_);
    if (!stage.ok()) return stage.status();
    e->stages_.push_back(*std::move(stage));
  }
  if (e->stages_.size() > 1) {
    if (auto s = e->Trial(results_target, sort_requested); !s.ok()) return s;
  }
  return e;
}

absl::Status PlanExecutor::Trial(int64_t results_target, bool sort_requested) {
  size_t n = stages_.size();
  int64_t budget = std::max<int64_t>(10000, static_cast<int64_t>(0.29 * static_cast<double>(ctx_.coll->count())));
  std::vector<std::deque<Member>> results(n);
  std::vector<bool> done(n, false);
  bool stop = false;
  for (int64_t round = 0; round < budget && !stop; ++round) {
    bool any_running = false;
    for (size_t i = 0; i < n && !stop; ++i) {
      if (done[i]) continue;
      any_running = true;
      Member m;
      auto s = stages_[i]->Work(&m);
      if (!s.ok()) {
        // A plan that fails (an $expr error) fails the query, as in MongoDB when every
        // plan fails; the same filter would fail on the others too.
        return s.status();
      }
      if (*s == State::kAdvanced) {
        results[i].push_back(std::move(m));
        if (static_cast<int64_t>(results[i].size()) >= results_target) stop = true;
      } else if (*s == State::kEof) {
        done[i] = true;
        stop = true;
      }
    }
    if (!any_running) break;
  }
  double best = -1;
  for (size_t i = 0; i < n; ++i) {
    const StageStats& st = stages_[i]->stats();
    double score = st.works > 0 ? static_cast<double>(st.advanced) / static_cast<double>(st.works) : 0;
    if (st.eof) score += 1.0;
    if (solutions_[i].covered) score += 1e-4;
    if (sort_requested && solutions_[i].provides_sort) score += 1e-4;
    if (score > best) best = score, winner_ = i;
  }
  buffered_ = std::move(results[winner_]);
  eof_ = done[winner_];
  return absl::OkStatus();
}

absl::StatusOr<bool> PlanExecutor::Next(std::string* record_key, std::string* doc) {
  if (!buffered_.empty()) {
    Member& m = buffered_.front();
    *record_key = std::move(m.record_key);
    *doc = std::move(m.doc);
    buffered_.pop_front();
    return true;
  }
  while (!eof_) {
    auto s = stages_[winner_]->Work(&member_);
    if (!s.ok()) return s.status();
    if (*s == State::kEof) {
      eof_ = true;
      break;
    }
    if (*s == State::kAdvanced) {
      *record_key = std::move(member_.record_key);
      *doc = std::move(member_.doc);
      return true;
    }
  }
  return false;
}

std::vector<Document> PlanExecutor::RejectedPlans(bool stats) const {
  std::vector<Document> out;
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (i != winner_) out.push_back(stages_[i]->Explain(stats));
  }
  return out;
}

}  // namespace micromongo::exec
