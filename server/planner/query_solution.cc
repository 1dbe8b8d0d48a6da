#include "planner/query_solution.h"

namespace micromongo::planner {
namespace {

void Describe(const PlanNode& n, std::string* out) {
  out->append(StageName(n.kind));
  if (ScansIndex(n.kind)) {
    out->append(" ").append(n.index->name);
    if (n.direction < 0) out->append(" backward");
    for (const IntervalList& list : n.bounds) {
      out->append(" ");
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out->append("U");
        out->append(list[i].ToString());
      }
    }
  }
  if (n.kind == NodeKind::kCollScan && n.direction < 0) out->append(" backward");
  if (n.children.empty()) return;
  out->append("(");
  for (size_t i = 0; i < n.children.size(); ++i) {
    if (i > 0) out->append(", ");
    Describe(*n.children[i], out);
  }
  out->append(")");
}

}  // namespace

std::string QuerySolution::Summary() const {
  std::string out;
  if (root != nullptr) Describe(*root, &out);
  return out;
}

const char* StageName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kEof: return "EOF";
    case NodeKind::kIdHack: return "IDHACK";
    case NodeKind::kCollScan: return "COLLSCAN";
    case NodeKind::kIndexScan: return "IXSCAN";
    case NodeKind::kDistinctScan: return "DISTINCT_SCAN";
    case NodeKind::kCountScan: return "COUNT_SCAN";
    case NodeKind::kFetch: return "FETCH";
    case NodeKind::kOr: return "OR";
    case NodeKind::kSortMerge: return "SORT_MERGE";
    case NodeKind::kTextOr: return "TEXT_OR";
    case NodeKind::kTextMatch: return "TEXT_MATCH";
    case NodeKind::kGeoNear2dSphere: return "GEO_NEAR_2DSPHERE";
  }
  return "EOF";
}

}  // namespace micromongo::planner
