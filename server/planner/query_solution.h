#pragma once

// Query solutions: the plan trees the planner proposes and the executor runs (MongoDB's
// QuerySolutionNode). A solution reads one collection through its _id, a collection scan,
// or index scans, and says whether its output is already in the requested sort order.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/index_key.h"
#include "planner/interval.h"
#include "query/matcher.h"
#include "text/text_query.h"

namespace micromongo::planner {

// An index the planner may use, with what writes have taught about it.
struct IndexEntry {
  uint32_t id = 0;
  std::string name;
  std::shared_ptr<const index::IndexSpec> spec;
  uint64_t multikey_fields = 0;  // bit i: key field i has had an array along its path
  // A wildcard index's view for one path (ExpandWildcard): `spec` is {"$_path": 1,
  // <path>: 1} with the wildcard index's options, `id` and `name` the wildcard index's.
  std::string wildcard_path;

  bool multikey() const { return multikey_fields != 0; }
  bool field_multikey(size_t i) const { return (multikey_fields >> std::min<size_t>(i, 63)) & 1; }
};

enum class NodeKind {
  kEof,        // nothing can match (an empty $in, a missing collection)
  kIdHack,     // one record by its _id
  kCollScan,   // every record, filtered
  kIndexScan,  // index entries within bounds (a covered plan filters them itself)
  // distinct's: the first entry of each value of the index's first field within bounds,
  // skipping the rest (one seek per distinct value); filters the key values like a covered
  // scan
  kDistinctScan,
  // count's: the entries within bounds that answer the whole filter exactly, counted
  // without building documents (a covered scan with nothing left to filter)
  kCountScan,
  kFetch,      // the records named by the child's entries, filtered
  kOr,         // the children's records, each once
  kSortMerge,  // the children's entries merged in sort order, each record once
  // $text: the records of the children's text index entries (one scan per term), each once
  // with the sum of its entries' scores, fetched and filtered by the rest of the query
  kTextOr,
  // $text: the child's documents that match the text query's phrases, negations and (case
  // or diacritic sensitive) terms
  kTextMatch,
  // $near / $nearSphere over a 2dsphere index: the records in order of distance, found in
  // widening rings, fetched and filtered
  kGeoNear2dSphere,
};

struct PlanNode {
  NodeKind kind = NodeKind::kEof;
  std::vector<std::unique_ptr<PlanNode>> children;

  // kIndexScan and kDistinctScan
  const IndexEntry* index = nullptr;
  std::vector<IntervalList> bounds;  // per key field, ascending key strings
  // kIndexScan and kCollScan: 1 forward, -1 backward.
  int direction = 1;
  // kIndexScan of a covered plan: the filter runs on the document the key values make.
  bool filter_keys = false;
  // kIndexScan of find's min/max: this key range instead of the bounds (all full).
  bool key_range = false;
  std::string key_min, key_max;  // empty key_max: to the index's end
  // kSortMerge: the sort pattern (BSON) its children are each ordered by.
  std::string sort_pattern;
  // kFetch, and kIndexScan of a covered plan: when `has_residual`, the stage applies
  // `residual` (null: nothing) instead of the query's filter. The bounds of the index
  // below answer the rest exactly (MongoDB's EXACT tightness), so it is never re-checked.
  bool has_residual = false;
  std::shared_ptr<const query::Matcher> residual;
  // kTextOr and kTextMatch: the text index (`index`) and the parsed query; kTextMatch: the
  // equalities on the index's prefix fields (BSON {field: value}).
  std::shared_ptr<const text::TextQuery> text_query;
  std::string index_prefix;
  // kGeoNear2dSphere: the query's $near (owned by the filter) and the index field it is
  // on; `bounds` hold the other fields' bounds (the geo field's are made per ring).
  const query::GeoNearMatch* near = nullptr;
  size_t geo_field = 0;
  // What the subtree's nodes point into when it was planned apart (an $or branch's own
  // filter and indexes).
  std::shared_ptr<const void> keep_alive;
};

struct QuerySolution {
  std::unique_ptr<PlanNode> root;
  bool provides_sort = false;  // output already in the requested order
  bool covered = false;        // no record is fetched; documents are made of key values

  // One line naming the plan's shape ("FETCH(IXSCAN a_1 [1, 1])"), for tests and logs.
  std::string Summary() const;
};

// Whether a node of this kind reads index entries (IXSCAN, DISTINCT_SCAN, COUNT_SCAN).
inline bool ScansIndex(NodeKind kind) {
  return kind == NodeKind::kIndexScan || kind == NodeKind::kDistinctScan || kind == NodeKind::kCountScan;
}

// MongoDB's explain name of a node ("IXSCAN", "FETCH", ...).
const char* StageName(NodeKind kind);

}  // namespace micromongo::planner
