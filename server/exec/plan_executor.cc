#include "exec/plan_executor.h"

#include <algorithm>
#include <chrono>

#include "document/builder.h"
#include "exec/plan_cache.h"
#include "planner/plan_cache_key.h"

namespace micromongo::exec {

absl::StatusOr<std::unique_ptr<PlanExecutor>> PlanExecutor::Make(ExecContext ctx,
                                                                 std::shared_ptr<const planner::PlannerInput> input,
                                                                 std::vector<planner::QuerySolution> solutions,
                                                                 int64_t results_target, bool sort_requested,
                                                                 std::string cache_key,
                                                                 std::function<std::string()> cache_note) {
  std::unique_ptr<PlanExecutor> e(new PlanExecutor());
  e->ctx_ = std::move(ctx);
  e->ctx_.batch_fetches = &e->batch_fetches_;
  e->input_ = std::move(input);
  e->solutions_ = std::move(solutions);
  e->results_target_ = results_target;
  if (e->solutions_.size() > 1 && !cache_key.empty()) {
    e->cache_key_ = std::move(cache_key);
    if (auto hit = PlanCache::Global().Get(e->cache_key_)) {
      for (size_t i = 0; i < e->solutions_.size(); ++i) {
        if (planner::SolutionSignature(e->solutions_[i]) != hit->signature) continue;
        // The cached winner alone: no trial.
        auto stage = BuildStages(*e->solutions_[i].root, e->ctx_);
        if (!stage.ok()) return stage.status();
        planner::QuerySolution chosen = std::move(e->solutions_[i]);
        e->solutions_.clear();
        e->solutions_.push_back(std::move(chosen));
        e->stages_.push_back(*std::move(stage));
        e->from_cache_ = true;
        e->cached_works_ = hit->works;
        e->batch_fetches_ = results_target >= 101;
        return e;
      }
    }
  }
  for (const auto& s : e->solutions_) {
    auto stage = BuildStages(*s.root, e->ctx_);
    if (!stage.ok()) return stage.status();
    e->stages_.push_back(*std::move(stage));
  }
  // Batched fetches wait for the end of a trial (one entry per unit of work keeps the race
  // fair); a lone plan batches from the start.
  // A limited query (target below a batch) reads one record at a time: no entry past the
  // limit is read, and explain counts what MongoDB counts.
  bool batch = results_target >= 101;
  if (e->stages_.size() == 1) e->batch_fetches_ = batch;
  if (e->stages_.size() > 1) {
    if (auto s = e->Trial(results_target, sort_requested); !s.ok()) return s;
    e->batch_fetches_ = batch;
    if (!e->cache_key_.empty()) {
      auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch());
      PlanCache::Global().Put(e->cache_key_, {planner::SolutionSignature(e->solutions_[e->winner_]),
                                              e->stages_[e->winner_]->stats().works,
                                              cache_note != nullptr ? cache_note() : std::string(),
                                              static_cast<int64_t>(now.count())});
    }
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

std::string PlanExecutor::KeyDocument(const Member& m) const {
  bson::Builder out;
  if (m.index != nullptr && !m.key_values.empty()) {
    const auto& fields = m.index->spec->fields();
    size_t i = 0;
    for (const bson::ElementView& e : bson::DocView(m.key_values)) {
      if (i < fields.size()) out.AppendView(fields[i++].path.dotted(), e.value);
    }
  } else if (m.index != nullptr || solution().root->kind == planner::NodeKind::kIdHack) {
    // The _id index: records are keyed by their _id.
    bson::ValueView id;
    if (bson::DocView(m.doc).Find("_id", &id)) out.AppendView("_id", id);
  }
  return std::move(out).Finish();
}

absl::StatusOr<bool> PlanExecutor::Next(std::string* record_key, std::string* doc, std::string* key) {
  ReportToCurrentOp(this);
  if (!buffered_.empty()) {
    Member& m = buffered_.front();
    if (key != nullptr) *key = KeyDocument(m);
    text_score_ = m.has_text_score ? std::optional<double>(m.text_score) : std::nullopt;
    geo_distance_ = m.has_geo_distance ? std::optional<double>(m.geo_distance) : std::nullopt;
    *record_key = std::move(m.record_key);
    *doc = std::move(m.doc);
    buffered_.pop_front();
    ++returned_;
    return true;
  }
  while (!eof_) {
    auto s = stages_[winner_]->Work(&member_);
    if (!s.ok()) return s.status();
    if (from_cache_ && returned_ < results_target_ &&
        stages_[winner_]->stats().works > 10 * std::max<int64_t>(cached_works_, 1) + 100) {
      // The cached plan works far harder than when it won: the next query of the shape
      // plans afresh.
      PlanCache::Global().Evict(cache_key_);
      from_cache_ = false;
    }
    if (*s == State::kEof) {
      eof_ = true;
      break;
    }
    if (*s == State::kAdvanced) {
      ++returned_;
      if (key != nullptr) *key = KeyDocument(member_);
      text_score_ = member_.has_text_score ? std::optional<double>(member_.text_score) : std::nullopt;
      geo_distance_ = member_.has_geo_distance ? std::optional<double>(member_.geo_distance) : std::nullopt;
      *record_key = std::move(member_.record_key);
      *doc = std::move(member_.doc);
      return true;
    }
  }
  return false;
}

void PlanExecutor::ReportStats(OpDebug* op, bool with_summary) {
  int64_t keys = keys_examined(), docs = docs_examined();
  op->keys_examined += keys - reported_keys_;
  op->docs_examined += docs - reported_docs_;
  reported_keys_ = keys;
  reported_docs_ = docs;
  if (with_summary && op->plan_summary.empty()) op->plan_summary = PlanSummary(WinningPlan(false));
}

namespace {

void AddAccessStages(const Document& stage, std::string* out) {
  const Value* name = stage.Find("stage");
  if (name != nullptr && name->type() == BsonType::kString) {
    const std::string& n = name->AsString();
    if (n == "COLLSCAN" || n == "IXSCAN" || n == "IDHACK" || n == "CLUSTERED_IXSCAN" || n == "COUNT_SCAN" ||
        n == "DISTINCT_SCAN" || n.rfind("GEO_NEAR", 0) == 0 || n == "TEXT_MATCH" || n == "EOF") {
      if (!out->empty()) *out += ", ";
      *out += n;
      const Value* key = stage.Find("keyPattern");
      if (key != nullptr && key->type() == BsonType::kDocument && n != "TEXT_MATCH") {
        *out += " { ";
        bool first = true;
        for (const auto& [field, v] : key->AsDocument()) {
          if (!first) *out += ", ";
          first = false;
          *out += field + ": " + v.ToJson();
        }
        *out += " }";
      }
      if (n == "TEXT_MATCH") return;  // its inner scans are the text index's
    }
  }
  if (const Value* in = stage.Find("inputStage"); in != nullptr && in->type() == BsonType::kDocument) {
    AddAccessStages(in->AsDocument(), out);
  }
  if (const Value* in = stage.Find("inputStages"); in != nullptr && in->type() == BsonType::kArray) {
    for (const Value& child : in->AsArray()) {
      if (child.type() == BsonType::kDocument) AddAccessStages(child.AsDocument(), out);
    }
  }
}

}  // namespace

std::string PlanSummary(const Document& plan) {
  std::string out;
  AddAccessStages(plan, &out);
  return out;
}

std::vector<Document> PlanExecutor::RejectedPlans(bool stats) const {
  std::vector<Document> out;
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (i != winner_) out.push_back(stages_[i]->Explain(stats));
  }
  return out;
}

}  // namespace micromongo::exec
