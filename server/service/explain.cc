#include "service/explain.h"

#include <chrono>

#include "document/builder.h"
#include "document/status.h"
#include "service/open_namespace.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

// Wraps `input` in a stage the operation adds above the plan.
Document Over(Document stage, Document input, bool stats, int64_t returned) {
  if (stats) {
    stage.Append("nReturned", returned);
  }
  stage.Append("inputStage", std::move(input));
  return stage;
}

struct Tree {
  Document plan;
  int64_t returned = 0;
};

// The operation's stages over a plan tree whose plan returned `n` documents.
Tree AddOperationStages(const ExplainedRead& r, Document plan, bool provides_sort, bool covered, bool stats,
                        int64_t n) {
  Tree t{std::move(plan), n};
  bool sorted = r.sort && !r.sort->empty();
  if (sorted && !provides_sort) {
    Document sort{{"stage", "SORT"}, {"sortPattern", *r.sort}, {"memLimit", int64_t{100} << 20}};
    if (r.limit > 0) sort.Append("limitAmount", r.skip + r.limit);
    sort.Append("type", "simple");
    if (r.limit > 0) t.returned = std::min(t.returned, r.skip + r.limit);
    t.plan = Over(std::move(sort), std::move(t.plan), stats, t.returned);
  }
  if (r.skip > 0) {
    t.returned = std::max<int64_t>(0, t.returned - r.skip);
    t.plan = Over(Document{{"stage", "SKIP"}, {"skipAmount", r.skip}}, std::move(t.plan), stats, t.returned);
  }
  if (r.limit > 0) {
    t.returned = std::min(t.returned, r.limit);
    t.plan = Over(Document{{"stage", "LIMIT"}, {"limitAmount", r.limit}}, std::move(t.plan), stats, t.returned);
  }
  if (r.projection && !r.projection->empty()) {
    const char* name = covered ? "PROJECTION_COVERED" : r.projection_covered_shape ? "PROJECTION_SIMPLE"
                                                                                  : "PROJECTION_DEFAULT";
    t.plan = Over(Document{{"stage", name}, {"transformBy", *r.projection}}, std::move(t.plan), stats, t.returned);
  }
  if (r.op == ExplainedRead::Op::kDistinct && covered) {
    // MongoDB's shape for a DISTINCT_SCAN: the key values projected to the distinct field.
    Document transform{{"_id", 0}, {r.query.distinct_field, 1}};
    t.plan = Over(Document{{"stage", "PROJECTION_COVERED"}, {"transformBy", transform}}, std::move(t.plan), stats,
                  t.returned);
  }
  // The write or count on top: it returns no documents, it counts them.
  const char* top = nullptr;
  const char* counter = nullptr;
  switch (r.op) {
    case ExplainedRead::Op::kCount: top = "COUNT", counter = "nCounted"; break;
    case ExplainedRead::Op::kUpdate: top = "UPDATE", counter = "nMatched"; break;
    case ExplainedRead::Op::kDelete: top = "DELETE", counter = "nWouldDelete"; break;
    default: break;
  }
  if (top != nullptr) {
    Document stage{{"stage", top}};
    if (stats) stage.Append(counter, t.returned);
    t.plan = Over(std::move(stage), std::move(t.plan), stats, 0);
    t.returned = 0;
  }
  return t;
}

}  // namespace

absl::StatusOr<ExplainVerbosity> ParseVerbosity(std::string_view v) {
  if (v.empty() || v == "queryPlanner") return ExplainVerbosity::kQueryPlanner;
  if (v == "executionStats") return ExplainVerbosity::kExecutionStats;
  if (v == "allPlansExecution") return ExplainVerbosity::kAllPlansExecution;
  return MongoError(kBadValue, "verbosity string must be one of {'queryPlanner', 'executionStats', "
                               "'allPlansExecution'}");
}

absl::StatusOr<Document> ExplainRead(storage::Engine* engine, const ExplainedRead& r, ExplainVerbosity verbosity) {
  if (auto s = storage::ValidateCollectionName(r.db, r.collection); !s.ok()) return s;
  auto ns = OpenNamespace(engine, r.db, r.collection, /*create=*/false);
  if (!ns.ok()) return ns.status();
  bool stats = verbosity != ExplainVerbosity::kQueryPlanner;
  auto started = std::chrono::steady_clock::now();
  Document winning, executed;
  Array rejected, all_plans;
  int64_t keys = 0, docs = 0, n = 0;
  bool provides_sort = false, covered = false;
  if (ns->coll == nullptr || ns->coll->is_view()) {
    if (ns->coll != nullptr) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Namespace ", r.db, ".", r.collection, " is a view, not a collection"));
    }
    winning = Document{{"stage", "EOF"}};
    executed = Document{{"stage", "EOF"}, {"nReturned", 0}, {"works", 1}, {"advanced", 0}, {"isEOF", true}};
  } else {
    QueryRequest query = r.query;
    query.use_plan_cache = false;
    auto exec = PlanQuery(ns->db, ns->coll, query, &r.deadline);
    if (!exec.ok()) return exec.status();
    provides_sort = (*exec)->provides_sort();
    covered = (*exec)->covered();
    if (stats) {
      // Read what the operation would read: everything, unless the plan's order lets a
      // limit (or a single update or delete) stop early.
      bool sorted = r.sort && !r.sort->empty() && !provides_sort;
      int64_t want = INT64_MAX;
      if (!sorted && r.limit > 0) want = r.skip + r.limit;
      if (!sorted && (r.op == ExplainedRead::Op::kUpdate || r.op == ExplainedRead::Op::kDelete) && !r.multi) {
        want = 1;
      }
      std::string key, doc;
      while (n < want) {
        auto more = (*exec)->Next(&key, &doc);
        if (!more.ok()) return more.status();
        if (!*more) break;
        ++n;
      }
      keys = (*exec)->keys_examined();
      docs = (*exec)->docs_examined();
      executed = (*exec)->WinningPlan(true);
    }
    winning = (*exec)->WinningPlan(false);
    for (Document& d : (*exec)->RejectedPlans(false)) rejected.push_back(std::move(d));
    if (verbosity == ExplainVerbosity::kAllPlansExecution) {
      for (Document& d : (*exec)->RejectedPlans(true)) {
        all_plans.push_back(Document{{"executionStages", std::move(d)}});
      }
    }
  }
  Document planner{{"namespace", StrCat(r.db, ".", r.collection)},
                   {"parsedQuery", bson::Decode(r.query.filter->filter())},
                   {"indexFilterSet", false},
                   {"winningPlan", AddOperationStages(r, winning, provides_sort, covered, false, 0).plan},
                   {"rejectedPlans", rejected}};
  Document out{{"explainVersion", "1"}, {"queryPlanner", planner}};
  if (stats) {
    Tree t = AddOperationStages(r, executed, provides_sort, covered, true, n);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    Document execution{{"executionSuccess", true},
                       {"nReturned", t.returned},
                       {"executionTimeMillis", static_cast<int64_t>(millis.count())},
                       {"totalKeysExamined", keys},
                       {"totalDocsExamined", docs},
                       {"executionStages", t.plan}};
    if (verbosity == ExplainVerbosity::kAllPlansExecution) execution.Append("allPlansExecution", all_plans);
    out.Append("executionStats", execution);
  }
  out.Append("command", r.command);
  out.Append("ok", 1.0);
  return out;
}

}  // namespace micromongo::service
