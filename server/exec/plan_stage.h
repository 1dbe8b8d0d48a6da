#pragma once

// Execution stages of a query solution (MongoDB's PlanStage): each Work() call does one
// unit of work — one index entry, one record — and says whether it produced a result
// (kAdvanced), needs more calls (kNeedTime) or is done (kEof). Small units let the
// multi-planner race candidate plans fairly and let deadlines interrupt long scans.
// Every stage of a plan reads one storage snapshot.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "planner/query_solution.h"
#include "query/matcher.h"
#include "storage/database.h"
#include "util/deadline.h"

namespace micromongo::exec {

// What a stage hands its parent: a record (by its storage key) and, once fetched or made
// of key values, its document.
struct Member {
  std::string record_key;
  std::string doc;
  bool has_doc = false;
  std::string key_values;  // an index entry's key values (BSON, empty names)
  const planner::IndexEntry* index = nullptr;  // the index of key_values (null: none)
  // $text's score ({$meta: "textScore"}), set by TEXT_OR.
  double text_score = 0;
  bool has_text_score = false;
  // $near's distance ({$meta: "geoNearDistance"}), set by GEO_NEAR_2DSPHERE.
  double geo_distance = 0;
  bool has_geo_distance = false;
};

enum class State { kAdvanced, kNeedTime, kEof };

struct StageStats {
  int64_t works = 0;
  int64_t advanced = 0;
  int64_t need_time = 0;
  bool eof = false;
  int64_t keys_examined = 0;
  int64_t docs_examined = 0;
  int64_t dups_tested = 0;
  int64_t dups_dropped = 0;
  int64_t seeks = 0;
};

// What every stage of one plan reads.
struct ExecContext {
  std::shared_ptr<storage::Database> db;
  std::shared_ptr<const storage::Collection> coll;
  std::shared_ptr<const storage::KvSnapshot> snapshot;
  std::shared_ptr<const query::Matcher> filter;
  const Deadline* deadline = nullptr;
  // Set by the executor when FETCH may read records in batches: not during plan trials (one
  // entry per unit of work keeps the race fair), nor for queries with a small limit (no
  // entry past the limit is read). Batches start at one entry and double. Null: never.
  const bool* batch_fetches = nullptr;
};

class PlanStage {
 public:
  virtual ~PlanStage() = default;
  absl::StatusOr<State> Work(Member* out);
  // MongoDB's explain document of this stage and those below it; with `stats`, its
  // execution counters too.
  Document Explain(bool stats) const;
  const StageStats& stats() const { return stats_; }
  // Totals over the tree.
  int64_t TotalKeysExamined() const;
  int64_t TotalDocsExamined() const;

 protected:
  virtual absl::StatusOr<State> DoWork(Member* out) = 0;
  virtual void AddExplain(Document* out, bool stats) const = 0;
  // True when AddExplain already described the children (MongoDB shows them as one stage).
  virtual bool ExplainsChildren() const { return false; }
  std::vector<std::unique_ptr<PlanStage>> children_;
  StageStats stats_;
};

// The stages of `node` over `ctx`.
absl::StatusOr<std::unique_ptr<PlanStage>> BuildStages(const planner::PlanNode& node, const ExecContext& ctx);

}  // namespace micromongo::exec
