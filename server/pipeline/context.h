#pragma once

// What a running pipeline needs from its surroundings.
//
// DataAccess is how stages reach collections: the source read (with the filter of a leading
// $match, so that it takes find's access paths), $lookup/$graphLookup/$unionWith reads,
// view definitions, the writes of $out and $merge, and the statistics of $collStats and
// $indexStats. The service implements it over storage; this module never sees storage.
//
// ExecContext is the state one execution shares among its stages: variables, collation,
// deadline, and the limits and place for spilling.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/compare.h"
#include "document/status.h"
#include "micromongo/document.h"
#include "pipeline/expression.h"
#include "pipeline/stage.h"
#include "util/deadline.h"

namespace micromongo::query {
class Matcher;
}

namespace micromongo::pipeline {

// MongoDB's internalQueryMaxBlockingSortMemoryUsageBytes and
// internalDocumentSourceGroupMaxMemoryBytes: what one blocking stage may hold in memory.
inline constexpr int64_t kDefaultBlockingMemoryLimit = 100 << 20;

struct ReadRequest {
  std::string db;
  std::string collection;
  // Documents must match (null: all). The read uses it to pick an access path: the _id
  // point lookup or a secondary index, as find does.
  std::shared_ptr<const query::Matcher> filter;
  // The order the reader wants (BSON sort pattern; empty: any). The read delivers it when
  // an index gives it (ReadPlan::provides_sort); otherwise the caller sorts.
  std::string sort;
  // The fields an inclusion projection keeps, when they are all plain fields (then an
  // index holding them all may answer without fetching); whether it keeps _id.
  std::optional<std::vector<std::string>> projection_fields;
  bool projection_includes_id = true;
  // find's and aggregate's hint ({"": <hint>} BSON; empty: none).
  std::string hint;
  // How many results the reader expects to want (a plan trial stops there).
  int64_t results_target = 101;
  bool use_plan_cache = true;  // false for explain, which races every candidate
  std::string min, max;        // find's min and max (BSON; empty: none)
  // Rows carry DocumentMeta::index_key (the key each was found by: {field: value} per key
  // field, {} from a collection scan) and DocumentMeta::record_id (BinData of the record's
  // _id key string: records are clustered by _id, as MongoDB's clustered collections).
  bool index_key_meta = false;
  bool record_id_meta = false;
};

// How a read was carried out, for explain.
struct ReadPlan {
  std::string stage;  // the winning plan's top stage: "COLLSCAN", "FETCH", "IXSCAN", ...
  std::string index;  // the first index it scans, if any
  bool provides_sort = false;
  bool covered = false;
  // A covered plan's documents, when one index scan makes them all: the dotted paths of
  // its key fields, the only fields they have (in that order).
  std::vector<std::string> covered_fields;
  // Explain's queryPlanner.winningPlan and rejectedPlans, built only when explain asks
  // (every read fills in a ReadPlan; most never look at these).
  std::function<Document()> winning_plan;
  std::function<std::vector<Document>()> rejected_plans;
  // After the read has run: {nReturned, totalKeysExamined, totalDocsExamined,
  // executionStages}. Valid while the read's stage lives.
  std::function<Document()> execution_stats;
};

// Reads one collection's documents by equality of one field through an index on it: what an
// equality join probes once per input document (an index nested-loop join).
class EqualityReader {
 public:
  virtual ~EqualityReader() = default;
  // Whether Find() can look `v` up (scalars other than null; strings only without a
  // collation). Joins read other values through DataAccess::Read.
  virtual bool CanFind(const Value& v) const = 0;
  // The documents whose field equals one of `values` (each one CanFind accepts), in _id
  // order without repeats.
  virtual absl::Status Find(const std::vector<Value>& values, std::vector<std::string>* docs) = 0;
};

struct ViewDefinition {
  std::string collection;  // the base collection (views on views resolved)
  std::vector<Document> pipeline;
};

// A $out's target being filled: documents go into a temporary collection that replaces
// the target at Commit(); destroying an uncommitted writer drops it.
class OutWriter {
 public:
  virtual ~OutWriter() = default;
  virtual absl::Status Insert(std::vector<std::string> docs) = 0;
  virtual absl::Status Commit() = 0;
};

struct MergeRequest {
  std::string db;
  std::string collection;
  std::vector<std::string> on;  // fields identifying a document (default: _id)
  enum class Matched { kReplace, kKeepExisting, kMerge, kFail, kPipeline } when_matched;
  enum class NotMatched { kInsert, kDiscard, kFail } when_not_matched;
  // For kMerge and kPipeline: the document that replaces `existing`, given the incoming one.
  std::function<absl::StatusOr<std::string>(bson::DocView existing, bson::DocView incoming)> combine;
  bool bypass_validation = false;
};

class DataAccess {
 public:
  virtual ~DataAccess() = default;

  // The view `db.coll` is, resolved down to its base collection; nullopt if it is not a view.
  virtual absl::StatusOr<std::optional<ViewDefinition>> ResolveView(std::string_view db,
                                                                    std::string_view coll) = 0;
  // The documents of a collection (none if it does not exist) that match the request's
  // filter. `plan` (optional) says how.
  virtual absl::StatusOr<StagePtr> Read(const ReadRequest& request, ReadPlan* plan) = 0;
  // Whether Read() would use the _id lookup or an index for `request` (rather than scan).
  virtual bool CanUseIndex(const ReadRequest& request) = 0;
  // A reader of `db.coll` by equality of `field` through an index whose first field it is;
  // null when there is no such index (or the collection is missing or a view).
  virtual absl::StatusOr<std::unique_ptr<EqualityReader>> OpenEqualityReader(std::string_view db,
                                                                             std::string_view coll,
                                                                             std::string_view field,
                                                                             const bson::Collator* collator) = 0;

  // $out's writer into `db.coll`. `timeseries`: the BSON of $out's timeseries option, empty
  // when absent; with it the target is (or becomes) a time series collection with those
  // options.
  virtual absl::StatusOr<std::unique_ptr<OutWriter>> OpenOut(std::string_view db,
                                                             std::string_view coll,
                                                             bool bypass_validation,
                                                             std::string_view timeseries) = 0;
  virtual absl::Status Merge(const MergeRequest& request, std::vector<std::string> docs) = 0;

  // $collStats: {count: {}} and {storageStats: {...}}, for `spec` as given.
  virtual absl::StatusOr<Document> CollStats(std::string_view db, std::string_view coll,
                                             const Document& spec) = 0;
  // $geoNear without `key`: the path of the collection's one geo index. Errors: 291 when
  // it has none, 2 when it has several.
  virtual absl::StatusOr<std::string> GeoNearKey(std::string_view db, std::string_view coll) {
    return MongoError(kNoQueryExecutionPlans, "$geoNear requires a 2d or 2dsphere index, but none were found");
  }
  // $planCacheStats: one document per cached plan of the collection.
  virtual absl::StatusOr<std::vector<Document>> PlanCacheStats(std::string_view db, std::string_view coll) {
    return std::vector<Document>();
  }
  // $indexStats: one document per index.
  virtual absl::StatusOr<std::vector<Document>> IndexStats(std::string_view db,
                                                           std::string_view coll) = 0;
};

struct ExecContext {
  DataAccess* data = nullptr;  // null: no collections (update pipelines)
  std::string db;              // the command's database
  std::string collection;      // the aggregated collection (empty: database-level)
  // $geoNear's path once its read has opened (its `key`, or the collection's geo index).
  std::string geo_near_key;
  const VariableMap* let = nullptr;
  std::shared_ptr<const bson::Collator> collator;
  Deadline deadline;
  bool allow_disk_use = false;
  // What one blocking stage may hold ($sort, $bucketAuto, $facet, windows, ...), and what
  // $group may (MongoDB's internalQueryMaxBlockingSortMemoryUsageBytes and
  // internalDocumentSourceGroupMaxMemoryBytes).
  int64_t memory_limit = kDefaultBlockingMemoryLimit;
  int64_t group_memory_limit = kDefaultBlockingMemoryLimit;
  std::string temp_dir;        // where spill files go (empty: nowhere)
  bool bypass_validation = false;
  // The aggregate command's hint for its collection read ({"": <hint>} BSON; empty: none).
  std::string read_hint;
  bool explain = false;  // the run explains itself: plans are raced, not taken from the cache

  const bson::Collator* collator_ptr() const { return collator.get(); }
  // Variables for evaluating an expression on `row`.
  Variables VariablesFor(const Row& row, const bson::DocView* view) const {
    Variables v;
    v.root_bson = view;
    v.let = let;
    v.collator = collator.get();
    v.meta = row.meta.get();
    return v;
  }
};

// The error of a blocking stage over its memory limit without allowDiskUse (292).
absl::Status MemoryLimitExceeded(std::string_view stage, int64_t limit);

}  // namespace micromongo::pipeline
